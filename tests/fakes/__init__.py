"""Loopback fakes of Puente's outside world, driven by the real client libraries.

Each fake is a real server on 127.0.0.1 (or, for the bridge, a real WebSocket client),
has async ``start()``/``stop()`` and ``async with``, records what it received, and offers
``wait_for...`` helpers that wake on every change instead of sleeping.
"""

from ._loopback import FakeTimeout
from .bridge import BridgeRejected, FakeBridge
from .openai_api import FakeOpenAI, FunctionCall, ResponseRequest, TranscriptionRequest
from .openai_files import OpenAIFiles
from .relay import FakeRelay
from .telegram_api import FakeTelegram
from .telegram_model import Call, ChatMessage

__all__ = [
    "BridgeRejected", "Call", "ChatMessage", "FakeBridge", "FakeOpenAI", "FakeRelay", "FunctionCall",
    "FakeTelegram", "FakeTimeout", "OpenAIFiles", "ResponseRequest", "TranscriptionRequest",
]
