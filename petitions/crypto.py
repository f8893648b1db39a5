"""Protect signatories' e-mail addresses at rest: keyed hashes for lookup, encryption for use."""
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def normalize_email(email: str) -> str:
    """Return the form of an address used for uniqueness (trimmed, lower case)."""
    return email.strip().lower()


def email_hash(email: str) -> str:
    """Return the keyed hash that finds a signature by e-mail without storing the address."""
    key = current_app.config["EMAIL_HASH_KEY"].encode()
    return hmac.new(key, normalize_email(email).encode(), hashlib.sha256).hexdigest()


def _fernet() -> MultiFernet:
    keys = current_app.config["DATA_KEYS"]
    return _fernet_of((keys,) if isinstance(keys, str) else tuple(keys))


@functools.lru_cache(maxsize=16)
def _fernet_of(keys: tuple[str, ...]) -> MultiFernet:
    # Built once per set of keys (a rotation configures a new set): building it was a sixth of each encryption.
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(text: str) -> str:
    """Encrypt with the newest data key."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str | None:
    """Decrypt with any configured data key; None if no key fits."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def new_data_key() -> str:
    """Generate a data key for instance/config.py."""
    return Fernet.generate_key().decode()


def encrypt_bytes(data: bytes) -> bytes:
    """Encrypt bytes with the newest data key."""
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes | None:
    """Decrypt bytes with any configured data key; None if no key fits."""
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        return None
