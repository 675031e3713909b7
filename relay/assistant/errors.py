"""What can go wrong with OpenAI, as the pipeline needs to tell it apart."""

from __future__ import annotations

import openai


class AssistantError(Exception):
    """OpenAI did not produce an answer; `reason` is one sentence without secrets."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyInvalid(AssistantError):
    """401: the tenant's key is wrong or revoked (kept turns wait for a new key)."""


class QuotaExhausted(AssistantError):
    """429 insufficient_quota: the tenant's account has no credit (never retried)."""


class OpenAIUnavailable(AssistantError):
    """A transient failure that outlived the retries (timeouts, 5xx, rate limits)."""


class ConversationGone(AssistantError):
    """The stored conversation no longer exists at OpenAI (start a new one)."""


class KnowledgeMissing(AssistantError):
    """OpenAI refused the file_search tool's vector stores (one was deleted behind Puente's
    back, or is not in the key's project): answer without them."""


def is_quota_error(exc: BaseException) -> bool:
    """A 429 that no retry will fix."""
    return isinstance(exc, openai.RateLimitError) and exc.code == "insufficient_quota"


def is_transient(exc: BaseException) -> bool:
    """Worth another try: connection trouble, timeouts, 408/409, rate limits, 5xx."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        if is_quota_error(exc):
            return False
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def classify(exc: Exception) -> AssistantError:
    """Turn an SDK error into one of ours (after retries were spent)."""
    if isinstance(exc, openai.AuthenticationError):
        return KeyInvalid("OpenAI rejected the API key (401).")
    if is_quota_error(exc):
        return QuotaExhausted("The OpenAI account has no quota left (429 insufficient_quota).")
    if isinstance(exc, openai.NotFoundError) and getattr(exc, "param", None) == "conversation":
        return ConversationGone("The conversation no longer exists at OpenAI.")
    if isinstance(exc, (openai.NotFoundError, openai.BadRequestError)) and _about_vector_stores(exc):
        return KnowledgeMissing("OpenAI refused the vector stores of the file_search tool.")
    if isinstance(exc, openai.APITimeoutError):
        return OpenAIUnavailable("OpenAI did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return OpenAIUnavailable("OpenAI could not be reached.")
    if isinstance(exc, openai.APIStatusError):
        return OpenAIUnavailable(f"OpenAI answered with an error (HTTP {exc.status_code}).")
    return OpenAIUnavailable(f"OpenAI call failed ({type(exc).__name__}).")


def _about_vector_stores(exc: openai.APIStatusError) -> bool:
    # OpenAI names the field (`tools[0].vector_store_ids`) or the store ("Vector store with
    # id 'vs_...' not found"); either is enough to tell it from any other 400 or 404.
    param = str(getattr(exc, "param", None) or "")
    return "vector_store" in param or "vector store" in str(exc.message).lower()
