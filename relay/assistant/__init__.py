"""OpenAI for the pipeline: one client per tenant key, the Responses API with Conversations."""

from relay.assistant.clients import OpenAIClients
from relay.assistant.errors import (
    AssistantError,
    ConversationGone,
    KeyInvalid,
    KnowledgeMissing,
    OpenAIUnavailable,
    QuotaExhausted,
)
from relay.assistant.responder import Assistant, RetryPolicy, TurnInput
from relay.assistant.tools import HANDOFF_TOOL, Answer, HandoffCall, file_search_tool, has_file_search

__all__ = [
    "HANDOFF_TOOL",
    "Answer",
    "Assistant",
    "AssistantError",
    "ConversationGone",
    "HandoffCall",
    "KeyInvalid",
    "KnowledgeMissing",
    "OpenAIClients",
    "OpenAIUnavailable",
    "QuotaExhausted",
    "RetryPolicy",
    "TurnInput",
    "file_search_tool",
    "has_file_search",
]
