"""What can go wrong with a tenant's knowledge, one code per thing a person can act on."""

from __future__ import annotations

import openai


class KnowledgeError(Exception):
    """A knowledge operation failed; `code` says why, `detail` is OpenAI's reason or the
    offending value (never a key), possibly ""."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def from_openai(exc: openai.OpenAIError) -> KnowledgeError:
    """An SDK error as a KnowledgeError: 401/403 bad_key, 429 insufficient_quota quota,
    404 not_found, 400 rejected (OpenAI's own message), the rest unreachable."""
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return KnowledgeError("bad_key")
    if isinstance(exc, openai.RateLimitError) and exc.code == "insufficient_quota":
        return KnowledgeError("quota")
    if isinstance(exc, openai.NotFoundError):
        return KnowledgeError("not_found", _message(exc))
    if isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return KnowledgeError("rejected", _message(exc))
    if isinstance(exc, openai.APIStatusError):
        return KnowledgeError("unreachable", f"HTTP {exc.status_code}")
    return KnowledgeError("unreachable", type(exc).__name__)


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return str(error.get("message") or "").strip()
