"""The message routing: bridges, pipeline, assistant, chats, message log, outbox, cleanup
and stats. From a WhatsApp message received by a tenant's bridge to OpenAI and back.

Imports the kernel (`core`) and `tenants`, never `bot` or `web`. What `bot` and `web` may
use of it is exported here; its submodules are for the composition root (`puente`).
"""

from relay.bridges.errors import BridgeError

__all__ = ["BridgeError"]
