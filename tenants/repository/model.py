"""What a tenant repository must offer (tenants/repository/mongo.py and sqlite.py implement
it). The tenant's shape is `Tenant.to_doc()` / `Tenant.from_doc()` on both back-ends."""

from __future__ import annotations

from typing import Any, Protocol

from tenants.model import Tenant


class TenantRepository(Protocol):
    """Stores tenants; the slug is the key, the landing link's hash is unique."""

    async def ensure_indexes(self) -> None: ...

    async def insert(self, tenant: Tenant) -> None:
        """Store a new tenant; raise SlugTaken if the slug (or landing hash) is in use."""
        ...

    async def get(self, slug: str) -> Tenant | None: ...

    async def by_landing_token_hash(self, token_hash: str) -> Tenant | None: ...

    async def update(self, slug: str, changes: dict[str, Any]) -> Tenant | None:
        """Set fields of `to_doc()` (dotted paths allowed, e.g. `whatsapp.state`); return the
        tenant as it is now, None if there is no such tenant."""
        ...

    async def delete(self, slug: str) -> bool:
        """Delete the tenant; True if there was one."""
        ...

    async def page(self, skip: int, limit: int) -> list[Tenant]:
        """Tenants in slug order, `limit` of them after the first `skip`."""
        ...

    async def all(self, *, enabled_only: bool = False) -> list[Tenant]:
        """Every tenant (or every enabled one) in slug order."""
        ...

    async def count(self) -> int: ...
