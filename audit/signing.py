"""Signed checkpoints of the audit chain's head: the Ed25519 key, signing and checking a checkpoint.

Pure apart from the key file: no settings, no database (the offline bundle check imports it).

The key
    An Ed25519 private key, made once on first use and kept beside the data as
    `secretariat-audit.key` (PKCS#8 PEM, unencrypted, mode 0600, like the token key); a key file
    that its group or others may read is refused. Its public key is printed as PEM
    (SubjectPublicKeyInfo) or, with `--raw`, as the base64 of its 32 raw bytes.

A checkpoint
    A JSON object:

        {"format": "secretariat-audit-checkpoint/1",
         "position": 100000,          # the notification-log position of the chain's last entry
         "hash": "<64 hex>",          # that entry's hash: the chain's head
         "length": 100000,            # the number of entries up to it (its `seq`)
         "time": "2026-11-23T09:00:00+00:00",   # when it was signed (UTC)
         "public_key": "<base64 of the 32 raw bytes of the signing key's public key>",
         "export": {...},             # only in an export bundle: what the bundle holds (see audit.bundle_format)
         "signature": "<base64 of the 64-byte Ed25519 signature>"}

    The signature is over the object without its "signature" member, written as canonical JSON
    (keys sorted, no whitespace, UTF-8: in Python `json.dumps(doc, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False).encode()`), so every member, the export's
    digests included, is signed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

AUDIT_KEY_FILE = "secretariat-audit.key"
CHECKPOINT_FORMAT = "secretariat-audit-checkpoint/1"
_SIGNED_FIELDS = {"format": str, "position": int, "hash": str, "length": int, "time": str, "public_key": str}


class KeyProblem(RuntimeError):
    """The key file is unsafe or unreadable, or a public key could not be read."""


# -- the key ----------------------------------------------------------------------------------------


def load_or_create_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The signing key in `path`, made (owner-only) when there is none; and whether it was made now.

    Made in a private temporary file and linked into place, so two processes starting at once
    end up with one key and neither reads a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(pem)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
                return load_key(path), True
            except FileExistsError:
                pass  # made by another process meanwhile: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    return load_key(path), False


def load_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in `path`, refused when its group or others may read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyProblem(f"there is no audit key at {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyProblem(f"{path} is readable by others; run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"{path} holds no readable private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key's 32 raw bytes, base64."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def read_public_key(data: bytes) -> Ed25519PublicKey:
    """A public key given as PEM (SubjectPublicKeyInfo) or as the base64 of its 32 raw bytes."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
            if not isinstance(key, Ed25519PublicKey):
                raise KeyProblem(f"the public key is a {type(key).__name__}, not an Ed25519 key")
            return key
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error) as error:
        raise KeyProblem(f"not an Ed25519 public key (PEM, or base64 of 32 bytes): {error}") from None


# -- checkpoints ------------------------------------------------------------------------------------


def signed_bytes(doc: dict[str, Any]) -> bytes:
    """What a checkpoint's signature covers: the checkpoint without its signature, as canonical JSON."""
    unsigned = {name: value for name, value in doc.items() if name != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_checkpoint(key: Ed25519PrivateKey, position: int, head: str, length: int,
                    time: datetime | None = None, export: dict[str, Any] | None = None) -> dict[str, Any]:
    """A signed checkpoint of the chain's head (see the module's text)."""
    moment = (time or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    doc: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "position": position, "hash": head, "length": length,
                           "time": moment.isoformat(), "public_key": public_raw(key)}
    if export is not None:
        doc["export"] = export
    doc["signature"] = base64.b64encode(key.sign(signed_bytes(doc))).decode("ascii")
    return doc


def checkpoint_problem(doc: Any, trusted: Ed25519PublicKey | None = None) -> str | None:
    """Why `doc` is not a well-formed checkpoint signed by `trusted` (by its own `public_key` when None)."""
    if not isinstance(doc, dict):
        return "the checkpoint is not a JSON object"
    if doc.get("format") != CHECKPOINT_FORMAT:
        return f"the checkpoint's format is {doc.get('format')!r}, not {CHECKPOINT_FORMAT!r}"
    for name, kind in _SIGNED_FIELDS.items():
        if not isinstance(doc.get(name), kind) or isinstance(doc.get(name), bool):
            return f"the checkpoint's {name!r} is missing or not a {kind.__name__}"
    if not isinstance(doc.get("signature"), str):
        return "the checkpoint has no signature"
    try:
        named = read_public_key(doc["public_key"].encode("ascii"))
    except (KeyProblem, UnicodeEncodeError) as error:
        return f"the checkpoint's public_key: {error}"
    if trusted is not None and public_raw(trusted) != public_raw(named):
        return (f"the checkpoint was signed by the key {doc['public_key']}, not by the trusted key "
                f"{public_raw(trusted)}")
    try:
        signature = base64.b64decode(doc["signature"], validate=True)
        named.verify(signature, signed_bytes(doc))
    except (InvalidSignature, binascii.Error, ValueError):
        return "the checkpoint's signature does not verify: it was changed after signing, or not signed by its key"
    return None
