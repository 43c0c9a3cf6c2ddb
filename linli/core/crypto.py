"""Field-level protection for personal data: AES-256-GCM encryption at rest plus a keyed
blind index (HMAC-SHA256) so that an exact lookup by the full value still works.

Both keys are derived from LINLI_FIELD_KEY with HKDF, each for its own purpose, so the
index key never doubles as the encryption key.
"""

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v1"


@cache
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _encryption_key() -> bytes:
    return _derive(settings.LINLI_FIELD_KEY, b"linli field encryption")


def _index_key() -> bytes:
    return _derive(settings.LINLI_FIELD_KEY, b"linli blind index")


def encrypt(plaintext: str, *, context: str) -> str:
    """`context` (e.g. "user.phone") is bound as associated data: a ciphertext copied into
    another column will not decrypt there."""
    nonce = os.urandom(12)
    sealed = AESGCM(_encryption_key()).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload.encode())
    return AESGCM(_encryption_key()).decrypt(raw[:12], raw[12:], context.encode()).decode()


def blind_index(value: str, *, context: str) -> str:
    digest = hmac.new(_index_key(), f"{context}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()


def mask_phone(phone: str) -> str:
    """138****5678; anything too short to mask meaningfully is hidden whole."""
    digits = phone[-11:] if phone.startswith("+86") else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
