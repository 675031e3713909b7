"""OpenAI for the pipeline: one client per tenant key, the Responses API with Conversations."""

from relay.assistant.clients import OpenAIClients
from relay.assistant.errors import AssistantError, ConversationGone, KeyInvalid, OpenAIUnavailable, QuotaExhausted
from relay.assistant.responder import Assistant, RetryPolicy, TurnInput

__all__ = [
    "Assistant",
    "AssistantError",
    "ConversationGone",
    "KeyInvalid",
    "OpenAIClients",
    "OpenAIUnavailable",
    "QuotaExhausted",
    "RetryPolicy",
    "TurnInput",
]
