"""What talking to a tenant's bridge can fail with; each message is one clear sentence."""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every bridge failure; the message can be shown to an operator."""


class BridgeNotConnected(BridgeError):
    """The tenant has no live bridge connection (or it went away while waiting)."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"the WhatsApp bridge of {tenant!r} is not connected")
        self.tenant = tenant


class BridgeCommandFailed(BridgeError):
    """The bridge answered a command with ok:false; `error` is what it said."""

    def __init__(self, error: str | None, command: str = "command") -> None:
        super().__init__(f"the bridge could not {command}: {error or 'no reason given'}")
        self.error = error or ""
        self.command = command


class BridgeTimeout(BridgeError):
    """The bridge did not answer a command in time."""

    def __init__(self, tenant: str, command: str, seconds: float) -> None:
        super().__init__(f"the bridge of {tenant!r} did not answer {command} within {seconds:g} s")
        self.tenant = tenant
        self.command = command


class BridgeDisabled(BridgeError):
    """The tenant is disabled, so its bridge is not started."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"the tenant {tenant!r} is disabled; enable it before linking WhatsApp")
        self.tenant = tenant
