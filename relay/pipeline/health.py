"""Whether each tenant's OpenAI key works: attention flags and alerts, once per change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from core.clock import Clock
from core.events import Alert, AlertKind
from core.metrics import Metrics
from relay.assistant.errors import AssistantError, KeyInvalid, QuotaExhausted
from relay.openai_errors import OpenAIErrorLog
from tenants.model import Tenant
from tenants.service import TenantService

log = logging.getLogger("relay.pipeline.health")

_ATTENTION = {KeyInvalid: ("invalid_key", AlertKind.OPENAI_KEY_INVALID), QuotaExhausted: ("quota", AlertKind.OPENAI_QUOTA)}


def error_kind(error: AssistantError) -> str:
    """A short label for metrics and counts."""
    return {KeyInvalid: "openai_key_invalid", QuotaExhausted: "openai_quota"}.get(type(error), "openai_unavailable")


class KeyHealth:
    """Marks a tenant as needing attention when its key fails and clears it when it works."""

    def __init__(
        self, tenants: TenantService, publish: Callable[[object], None], errors: OpenAIErrorLog,
        clock: Clock, metrics: Metrics,
    ) -> None:
        self._tenants = tenants
        self._publish = publish
        self._errors = errors
        self._clock = clock
        self._metrics = metrics
        self._attention: dict[str, str | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def known(self, tenant: Tenant) -> str | None:
        """The attention reason as last seen (the stored one until we learn better)."""
        return self._attention.setdefault(tenant.slug, tenant.attention)

    def forget(self, slug: str) -> None:
        """Read the stored reason again next time (an admin changed the key)."""
        self._attention.pop(slug, None)

    async def failed(self, tenant: Tenant, error: AssistantError) -> bool:
        """Count the failure; for key and quota errors flag the tenant. True if the turn is to be kept."""
        kind = error_kind(error)
        self._metrics.errors.labels(kind).inc()
        try:
            await self._errors.record(tenant.slug, kind, self._clock.now())
        except Exception:
            log.exception("tenant %s: counting an OpenAI error failed", tenant.slug)
        flag = _ATTENTION.get(type(error))
        if flag is None:
            log.warning("tenant %s: OpenAI unavailable: %s", tenant.slug, error.reason)
            return False
        reason, alert = flag
        async with self._lock(tenant.slug):
            if self.known(tenant) != reason:
                self._attention[tenant.slug] = reason
                if await self._tenants.set_attention(tenant.slug, reason, last_error=error.reason):
                    log.warning("tenant %s needs attention: %s", tenant.slug, error.reason)
                    self._publish(Alert(tenant.slug, alert, {"error": error.reason}))
        return True

    async def succeeded(self, tenant: Tenant) -> bool:
        """OpenAI answered: clear a flag if there was one. True if the tenant just recovered."""
        if self.known(tenant) is None:
            return False
        async with self._lock(tenant.slug):
            if self._attention.get(tenant.slug) is None:
                return False
            self._attention[tenant.slug] = None
            await self._tenants.set_attention(tenant.slug, None)
            log.info("tenant %s: OpenAI works again", tenant.slug)
            self._publish(Alert(tenant.slug, AlertKind.OPENAI_RECOVERED, {}))
            return True

    def _lock(self, slug: str) -> asyncio.Lock:
        return self._locks.setdefault(slug, asyncio.Lock())
