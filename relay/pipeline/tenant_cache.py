"""Tenants kept in memory for the hot path; refreshed when the tenant service says so."""

from __future__ import annotations

from tenants.model import Tenant
from tenants.service import TenantService


class TenantCache:
    """Reads a tenant once, then serves it from memory until told it changed."""

    def __init__(self, tenants: TenantService) -> None:
        self._tenants = tenants
        self._cached: dict[str, Tenant] = {}

    async def get(self, slug: str) -> Tenant | None:
        """The tenant, or None if it does not exist."""
        tenant = self._cached.get(slug)
        if tenant is None:
            tenant = await self._tenants.find(slug)
            if tenant is not None:
                self._cached[slug] = tenant
        return tenant

    def put(self, tenant: Tenant) -> None:
        """Remember a tenant just read or written."""
        self._cached[tenant.slug] = tenant

    def forget(self, slug: str) -> None:
        """Read it again next time (TenantUpdated, TenantKeyChanged, TenantDeleted)."""
        self._cached.pop(slug, None)
