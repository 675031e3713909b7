"""OpenAI for the pipeline: one client per tenant key, the Responses API with Conversations."""

from relay.assistant.clients import OpenAIClients
from relay.assistant.errors import AssistantError, ConversationGone, KeyInvalid, OpenAIUnavailable, QuotaExhausted
from relay.assistant.responder import Assistant, RetryPolicy, TurnInput
from relay.assistant.tools import HANDOFF_TOOL, Answer, HandoffCall

__all__ = [
    "HANDOFF_TOOL",
    "Answer",
    "Assistant",
    "AssistantError",
    "ConversationGone",
    "HandoffCall",
    "KeyInvalid",
    "OpenAIClients",
    "OpenAIUnavailable",
    "QuotaExhausted",
    "RetryPolicy",
    "TurnInput",
]
