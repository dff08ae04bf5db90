"""The transcoding that keeps personal data encrypted in stored events (and in views that store events' data).

Stored form: `{"_type_": "personal", "_data_": {"subject": ..., "key": <key id>, "nonce": <b64>, "sealed": <b64>}}`,
AES-256-GCM with the subject and key id as associated data (a ciphertext moved to another person's
record does not decrypt). Once the key is deleted the value decodes as erased, and an erased value
encodes as `{"subject": ..., "erased": true}`: a view rebuilt after an erasure holds no ciphertext either.
The audit hash chain hashes the stored bytes, so it neither needs nor sees the plain value.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from domain.personal_data import PersonalData, PersonalKeys


class EncryptedPersonalData(Transcoding):
    type = PersonalData
    name = "personal"

    def __init__(self, keys: PersonalKeys) -> None:
        self.keys = keys

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        if obj.erased or obj.value is None:
            return {"subject": obj.subject, "erased": True}
        if obj.stored is not None:  # read from the store: the same ciphertext again (and no key lookup)
            return obj.stored
        key_id, key = self.keys.key_for(obj.subject)
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, obj.value.encode("utf-8"), _bound(obj.subject, key_id))
        return {"subject": obj.subject, "key": key_id, "nonce": _b64(nonce), "sealed": _b64(sealed)}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        subject = data["subject"]
        key = self.keys.key(data["key"]) if "key" in data else None
        if key is None:
            return PersonalData.erased_for(subject)
        try:
            plain = AESGCM(key).decrypt(base64.b64decode(data["nonce"]), base64.b64decode(data["sealed"]),
                                        _bound(subject, data["key"]))
        except InvalidTag:  # not this key's ciphertext: unreadable is what erased means
            return PersonalData.erased_for(subject)
        return PersonalData(subject, plain.decode("utf-8"), stored=data)


def _bound(subject: str, key_id: str) -> bytes:
    return f"{subject}\x00{key_id}".encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
