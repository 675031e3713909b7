"""Secrets at rest: the Fernet key, encrypted OpenAI keys, hashed bridge tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.data_dir import make_private_dir, make_private_files


class SecretKeyError(Exception):
    """The secret key is malformed or cannot decrypt what is stored."""


class SecretBox:
    """Encrypts and decrypts tenant secrets with one Fernet key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                "SECRET_KEY: must be a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError("a stored secret cannot be decrypted: SECRET_KEY changed?") from None


def load_or_create_key(configured: str | None, data_dir: Path) -> str:
    """The configured key, or the one kept in DATA_DIR/secret.key (created once, mode 0600)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if path.exists():
        make_private_files(path)
        return path.read_text().strip()
    make_private_dir(data_dir)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def mask_key(key: str) -> str:
    """How an OpenAI key is shown: `sk-…abcd`."""
    key = key.strip()
    prefix = "sk-" if key.startswith("sk-") else ""
    return f"{prefix}…{key[-4:]}" if len(key) >= 8 else "…"


def new_token() -> str:
    """A URL-safe random token of 192 bits."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """How bridge and landing tokens are stored: only their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    if not stored_hash:
        hmac.compare_digest("x" * 64, hash_token(token))
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)
