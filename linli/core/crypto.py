"""Field-level protection for personal data: AES-256-GCM encryption at rest plus a keyed
blind index (HMAC-SHA256) so that an exact lookup by the full value still works.

Both keys are derived from LINLI_FIELD_KEY with HKDF, each for its own purpose, so the
index key never doubles as the encryption key.

Key rotation (docs/personal-data.md): a ciphertext names the key that sealed it
(`v2:<key id>:<payload>`); keys listed in LINLI_FIELD_KEY_PREVIOUS still decrypt, and
`manage.py rotate_field_key` re-seals every registered field and recomputes its blind
index under the current key.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = "v2"


@cache
def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _encryption_key(master: bytes | None = None) -> bytes:
    return _derive(master or settings.LINLI_FIELD_KEY, b"linli field encryption")


@cache
def _key_id(key: bytes) -> str:
    # Names the key without revealing it: a hash of the derived key, not of the master.
    return hashlib.sha256(b"linli key id" + key).hexdigest()[:8]


def _decryption_keys() -> list[bytes]:
    masters = [settings.LINLI_FIELD_KEY, *getattr(settings, "LINLI_FIELD_KEY_PREVIOUS", [])]
    return [_encryption_key(m) for m in masters]


def current_key_id() -> str:
    return _key_id(_encryption_key())


def _index_key() -> bytes:
    return _derive(settings.LINLI_FIELD_KEY, b"linli blind index")


def encrypt(plaintext: str, *, context: str) -> str:
    """`context` (e.g. "user.phone") is bound as associated data: a ciphertext copied into
    another column will not decrypt there."""
    key = _encryption_key()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{_VERSION}:{_key_id(key)}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    version, _, rest = token.partition(":")
    if version == "v1":
        # v1 tokens did not name their key: try the current one, then the previous ones.
        candidates, payload = _decryption_keys(), rest
    elif version == _VERSION:
        kid, _, payload = rest.partition(":")
        candidates = [k for k in _decryption_keys() if _key_id(k) == kid]
        if not candidates:
            raise ValueError(f"no configured key has id {kid!r} (see LINLI_FIELD_KEY_PREVIOUS)")
    else:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload.encode())
    error: Exception | None = None
    for key in candidates:
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            error = exc
    raise error or InvalidTag()


def is_current(token: str) -> bool:
    """Whether a ciphertext is sealed with the current key (rotation skips those)."""
    return token.startswith(f"{_VERSION}:{current_key_id()}:")


def blind_index(value: str, *, context: str) -> str:
    digest = hmac.new(_index_key(), f"{context}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass(frozen=True)
class EncryptedField:
    """One encrypted column with its blind index, for key rotation. `cipher` and `index`
    are field names on `model` ("app_label.Model"); `index` is "" for a column that is
    never looked up."""

    model: str
    cipher: str
    index: str
    context: str


ENCRYPTED_FIELDS: list[EncryptedField] = []


def register_encrypted_field(model: str, cipher: str, index: str, context: str) -> None:
    spec = EncryptedField(model, cipher, index, context)
    if spec not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append(spec)


def mask_id_number(number: str) -> str:
    """370502********1234: the six-digit area code and the last four (standards §4.2)."""
    if len(number) < 10:
        return "*" * len(number)
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def mask_name(name: str) -> str:
    """张* for two characters, 张*三 for three, 欧阳**明 for more: the first and the last
    character stay (standards §4.2); Latin names keep their first letter of each word."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(f"{w[0]}{'*' * (len(w) - 1)}" for w in name.split())
    if len(name) <= 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_phone(phone: str) -> str:
    """138****5678; anything too short to mask meaningfully is hidden whole."""
    digits = phone[-11:] if phone.startswith("+86") else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def rotate_encrypted_fields(*, batch_size: int = 2000) -> dict[str, int]:
    """Re-seal every registered encrypted column under the current key and recompute its
    blind index; returns rows changed per field. Rows already under the current key are
    skipped, so a run that was interrupted can be started again. Each column is one
    transaction, so lookups never see a half-rotated column."""
    from django.apps import apps
    from django.db import transaction

    changed: dict[str, int] = {}
    for spec in ENCRYPTED_FIELDS:
        model = apps.get_model(spec.model)
        rows = model.objects.exclude(**{spec.cipher: ""}).order_by("pk")
        n = 0
        with transaction.atomic():
            batch = []
            columns = [spec.cipher, spec.index] if spec.index else [spec.cipher]
            for obj in rows.only("pk", *columns).iterator(chunk_size=batch_size):
                token = getattr(obj, spec.cipher)
                if is_current(token):
                    continue
                plain = decrypt(token, context=spec.context)
                setattr(obj, spec.cipher, encrypt(plain, context=spec.context))
                if spec.index:
                    setattr(obj, spec.index, blind_index(plain, context=spec.context))
                batch.append(obj)
                if len(batch) >= batch_size:
                    model.objects.bulk_update(batch, columns)
                    n += len(batch)
                    batch = []
            if batch:
                model.objects.bulk_update(batch, columns)
                n += len(batch)
        changed[f"{spec.model}.{spec.cipher}"] = n
    return changed
