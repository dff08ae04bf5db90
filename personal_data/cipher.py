"""The transcoding that keeps personal data encrypted in stored events (and in views that store events' data).

Decoding reads no key: the value is opened when something reads it (domain/personal_data.py).
Stored form: `{"_type_": "personal", "_data_": {"subject": ..., "key": <key id>, "nonce": <b64>, "sealed": <b64>}}`,
AES-256-GCM with the subject and key id as associated data (a ciphertext moved to another person's
record does not decrypt). Once the key is deleted the value reads as erased; a value read from the
store is written again as the same ciphertext (views equal on rebuild), an erased one made anew as
`{"subject": ..., "erased": true}`.
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
        if obj.stored is not None:  # read from the store: the same ciphertext again (and no key lookup)
            return obj.stored
        if obj.value is None:
            return {"subject": obj.subject, "erased": True}
        key_id, key = self.keys.key_for(obj.subject)
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, obj.value.encode("utf-8"), _bound(obj.subject, key_id))
        return {"subject": obj.subject, "key": key_id, "nonce": _b64(nonce), "sealed": _b64(sealed)}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        if "key" not in data:
            return PersonalData.erased_for(data["subject"])
        # Opened when read, not now: see PersonalData (no stale plaintext in caches, no lookup for unread values).
        return PersonalData(data["subject"], stored=data, opener=self.open)

    def open(self, data: dict[str, Any]) -> str | None:
        """The plain value, or None if its key is gone (asked of the key table every time: never stale)."""
        key = self.keys.key(data["key"])
        if key is None:
            return None
        try:
            plain = AESGCM(key).decrypt(base64.b64decode(data["nonce"]), base64.b64decode(data["sealed"]),
                                        _bound(data["subject"], data["key"]))
        except InvalidTag:  # not this key's ciphertext: unreadable is what erased means
            return None
        return plain.decode("utf-8")


def _bound(subject: str, key_id: str) -> bytes:
    return f"{subject}\x00{key_id}".encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
