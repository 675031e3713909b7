"""Secrets at rest: Fernet round trip, key file created once with mode 0600, masking, log scrubbing."""

from __future__ import annotations

import io
import logging
import stat

import pytest

from core.logs import setup_logging
from tenants.secrets import SecretBox, SecretKeyError, load_or_create_key, mask_key


def test_encryption_round_trip_and_ciphertext_hides_the_key():
    box = SecretBox(load_or_create_key(None, __import__("pathlib").Path("/tmp/puente-test-secrets")))
    token = box.encrypt("sk-test-abcdefghijklmnop")
    assert "abcdefghij" not in token
    assert box.decrypt(token) == "sk-test-abcdefghijklmnop"


def test_key_file_is_generated_once_with_mode_0600(tmp_path):
    first = load_or_create_key(None, tmp_path)
    assert load_or_create_key(None, tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_malformed_secret_key_is_a_clear_error():
    with pytest.raises(SecretKeyError, match="SECRET_KEY: must be a Fernet key"):
        SecretBox("not-a-key")


def test_wrong_key_cannot_decrypt():
    token = SecretBox(load_or_create_key(None, __import__("pathlib").Path("/tmp/puente-test-a"))).encrypt("x")
    other = SecretBox("x9YbqKkD5mJ8tWq2V3c7N1pL6rT0sA4eF8gH2jK5mN0=")
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        other.decrypt(token)


def test_masking():
    assert mask_key("sk-proj-abcdefghijklmnopqrstuvwxyz") == "sk-…wxyz"


def test_log_lines_never_carry_keys_or_tokens(monkeypatch):
    stream = io.StringIO()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    setup_logging("debug", "json")
    handler = logging.getLogger().handlers[0]
    monkeypatch.setattr(handler, "stream", stream)
    log = logging.getLogger("relay.test")
    log.info("calling with %s", "sk-proj-abcdefghijklmnopqrstuvwxyz")
    log.info("url https://api.telegram.org/bot123456789:AAE-abcdefghijklmnopqrstuvwxyz012345/getMe")
    log.info("header Authorization: Bearer abcdefghijkl.mnop")
    text = stream.getvalue()
    assert text.count("***") == 3
    assert "abcdefghijklmnopqrstuvwxyz" not in text and "abcdefghijkl.mnop" not in text
