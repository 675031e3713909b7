"""Where tenants are stored: the repository's protocol and its two back-ends (MongoDB and
the embedded SQLite store); `open_tenants` picks the one for the store in use."""

from __future__ import annotations

from typing import Any

from core.sqlite import Database
from tenants.repository.model import TenantRepository
from tenants.repository.mongo import MongoTenants
from tenants.repository.sqlite import SqliteTenants

__all__ = ["TenantRepository", "open_tenants"]


def open_tenants(db: Any) -> TenantRepository:
    """The tenant repository of a store's database (`Store.db`)."""
    return SqliteTenants(db) if isinstance(db, Database) else MongoTenants(db)
