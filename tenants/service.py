"""The tenant rules: every change to a tenant goes through here, audited.

The admin bot and the landing pages call this service; the supervisor and the
pipeline hear about changes through the events it publishes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.clock import Clock
from core.events import (
    TenantCreated,
    TenantDeleted,
    TenantDisabled,
    TenantEnabled,
    TenantKeyChanged,
    TenantUpdated,
    WhatsAppState,
)
from tenants import hours as opening
from tenants.budget import BudgetNotices, parse_budget
from tenants import validation
from tenants.audit import AuditLog
from tenants.errors import InvalidInput, TenantNotFound
from tenants.hours import HoursError, Override
from tenants.model import DEFAULT_INSTRUCTIONS, Tenant, TenantSettings, whatsapp_doc
from tenants.repository import TenantRepository
from tenants.secrets import SecretBox, hash_token, mask_key, new_token, token_matches

log = logging.getLogger("tenants.service")


@dataclass(frozen=True, slots=True)
class NewTenant:
    """What the operator gives to create a tenant."""

    slug: str
    name: str
    openai_key: str
    email: str | None = None
    instructions: str | None = None
    model: str | None = None


_KEYS_KEPT = 10_000  # decrypted keys kept; past it (keys changed that often) start again


class TenantService:
    """Creates, changes and deletes tenants; holds their secrets encrypted."""

    def __init__(
        self,
        repo: TenantRepository,
        audit: AuditLog,
        box: SecretBox,
        clock: Clock,
        publish: Callable[[object], None],
        default_model: str,
        *,
        default_timezone: str = "UTC",
    ) -> None:
        self._repo = repo
        self._audit = audit
        self._box = box
        self._clock = clock
        self._publish = publish
        self._before_delete: list[Callable[[Tenant], Awaitable[None]]] = []
        self._default_model = default_model
        self._default_timezone = default_timezone
        # Each tenant's key in clear by its ciphertext: decrypting took ~0.15 ms of every
        # message (bench/README.md). A changed key has a new ciphertext; the relay's OpenAI
        # clients hold the same keys in memory anyway.
        self._keys: dict[str, str] = {}

    # --- reading -------------------------------------------------------------------

    async def get(self, slug: str) -> Tenant:
        """The tenant with this slug, or TenantNotFound."""
        tenant = await self._repo.get(slug.strip().lower()) if slug else None
        if tenant is None:
            raise TenantNotFound(slug)
        return tenant

    async def find(self, slug: str) -> Tenant | None:
        return await self._repo.get(slug)

    async def by_landing_token(self, token: str) -> Tenant | None:
        """The tenant whose landing link carries `token` (looked up by its hash; constant-time compare)."""
        tenant = await self._repo.by_landing_token_hash(hash_token(token))
        if tenant is None or not token_matches(token, tenant.landing_token_hash):
            return None
        return tenant

    async def page(self, page: int, per_page: int = 10) -> tuple[list[Tenant], int]:
        """One page of tenants (0-based) and the total count."""
        return await self._repo.page(page * per_page, per_page), await self._repo.count()

    async def all(self, *, enabled_only: bool = False) -> list[Tenant]:
        return await self._repo.all(enabled_only=enabled_only)

    def openai_key(self, tenant: Tenant) -> str:
        """The tenant's OpenAI key in clear, for calling OpenAI only."""
        key = self._keys.get(tenant.openai_key_encrypted)
        if key is None:
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            key = self._keys[tenant.openai_key_encrypted] = self._box.decrypt(tenant.openai_key_encrypted)
        return key

    # --- creating and deleting -----------------------------------------------------

    async def create(self, new: NewTenant, actor: str) -> Tenant:
        """Validate and store a new tenant (enabled); publish TenantCreated."""
        key = validation.openai_key(new.openai_key)
        now = self._clock.now()
        landing_token = new_token()
        tenant = Tenant(
            slug=validation.slug(new.slug),
            name=validation.display_name(new.name),
            email=validation.email(new.email) if new.email else None,
            openai_key_encrypted=self._box.encrypt(key),
            openai_key_hint=mask_key(key),
            model=validation.model(new.model) if new.model else self._default_model,
            instructions=validation.instructions(new.instructions) if new.instructions else DEFAULT_INSTRUCTIONS,
            landing_token_hash=hash_token(landing_token),
            created_at=now,
            updated_at=now,
            landing_token=landing_token,
        )
        await self._repo.insert(tenant)
        await self._audit.record(actor, "create", tenant.slug, name=tenant.name, model=tenant.model)
        self._publish(TenantCreated(tenant.slug))
        return tenant

    def before_delete(self, hook: Callable[[Tenant], Awaitable[None]]) -> None:
        """Call `hook` with the tenant (key still readable) before a tenant is deleted."""
        self._before_delete.append(hook)

    async def delete(self, slug: str, actor: str) -> Tenant:
        """Remove the tenant; its bridge, session and chats go with TenantDeleted."""
        tenant = await self.get(slug)
        for hook in self._before_delete:
            try:
                await hook(tenant)
            except Exception as exc:  # never in the way of the deletion itself
                log.warning("tenant %s: a step before deleting it failed (%s)", tenant.slug, type(exc).__name__)
        await self._repo.delete(tenant.slug)
        await self._audit.record(actor, "delete", tenant.slug)
        self._publish(TenantDeleted(tenant.slug))
        return tenant

    # --- changing ------------------------------------------------------------------

    async def set_enabled(self, slug: str, enabled: bool, actor: str) -> Tenant:
        tenant = await self._change(slug, actor, "enable" if enabled else "disable", enabled=enabled)
        self._publish(TenantEnabled(tenant.slug) if enabled else TenantDisabled(tenant.slug))
        return tenant

    async def set_email(self, slug: str, email: str | None, actor: str) -> Tenant:
        address = validation.email(email) if email else None
        return await self._change(slug, actor, "email", email=address)

    async def set_model(self, slug: str, model: str, actor: str) -> Tenant:
        return await self._change(slug, actor, "model", model=validation.model(model))

    async def set_instructions(self, slug: str, text: str, actor: str) -> Tenant:
        return await self._change(slug, actor, "instructions", instructions=validation.instructions(text))

    async def set_description(self, slug: str, text: str, actor: str) -> Tenant:
        """The short description of the assistant that the client's page shows."""
        return await self._change(slug, actor, "description", description=validation.description(text))

    async def set_openai_key(self, slug: str, key: str, actor: str) -> Tenant:
        key = validation.openai_key(key)
        tenant = await self._change(
            slug, actor, "key",
            openai_key_encrypted=self._box.encrypt(key), openai_key_hint=mask_key(key), attention=None,
        )
        self._publish(TenantKeyChanged(tenant.slug))
        return tenant

    async def update_settings(self, slug: str, actor: str, **changes: Any) -> Tenant:
        """Change some of the tenant's settings; unknown names or bad values are refused."""
        tenant = await self.get(slug)
        known = {f.name: f for f in dataclasses.fields(TenantSettings)}
        for name, value in changes.items():
            if name not in known:
                raise InvalidInput("settings", f"unknown setting {name!r}")
            _check_setting(name, value)
        settings = dataclasses.replace(tenant.settings, **changes)
        return await self._change(tenant.slug, actor, "settings", audit_detail=changes, settings=settings.to_doc())

    # --- opening hours (/hours) ---------------------------------------------------------

    async def set_hours(self, slug: str, words: list[str], actor: str) -> Tenant:
        """`[time zone] <schedule> [answer|away]`: the weekly schedule replaced (closed dates
        kept). Without a zone, the tenant's or DEFAULT_TIMEZONE; without a mode, the current one."""
        tenant = await self.get(slug)
        current = tenant.hours
        words = list(words)
        mode = words.pop().lower() if words and words[-1].lower() in opening.MODES else None
        if words and not opening.looks_like_days(words[0]):
            zone = words.pop(0)
        else:
            zone = current.timezone if current else self._default_timezone
        try:
            hours = opening.parse_hours(zone, " ".join(words), mode or (current.mode if current else "answer"))
        except HoursError as exc:
            raise InvalidInput(exc.field, str(exc)) from None
        if current is not None:
            hours = dataclasses.replace(hours, closed=current.closed)
        return await self._change(tenant.slug, actor, "hours", audit_detail={"hours": hours.describe(),
                                  "timezone": hours.timezone, "mode": hours.mode}, hours=hours.to_doc())

    async def add_closed_dates(self, slug: str, words: list[str], actor: str) -> Tenant:
        """Closed dates (`24/12`, `24/12/2027`) added to the schedule; past ones forgotten."""
        tenant = await self.get(slug)
        if tenant.hours is None:
            raise InvalidInput("hours", "set a schedule before closed dates")
        today = tenant.hours.local(self._clock.now()).date()
        try:
            added = {opening.parse_date(word, today) for word in words}
        except HoursError as exc:
            raise InvalidInput(exc.field, str(exc)) from None
        if not added:
            raise InvalidInput("date", "no date given")
        closed = tuple(sorted(d for d in set(tenant.hours.closed) | added if d >= today))
        hours = dataclasses.replace(tenant.hours, closed=closed)
        return await self._change(tenant.slug, actor, "closed_dates", audit_detail={"added": sorted(map(str, added))},
                                  hours=hours.to_doc())

    async def clear_hours(self, slug: str, actor: str) -> Tenant:
        """No schedule any more: always open (an owner's `cerrado` still holds until it ends)."""
        return await self._change(slug, actor, "hours", audit_detail={"hours": None}, hours=None)

    # --- the monthly budget (/budget) ---------------------------------------------------

    async def set_budget(self, slug: str, words: list[str], actor: str) -> Tenant:
        """`<usd> [stop|fallback <model>]`: the monthly budget; this month's notices start over,
        so a raised budget resumes the assistant and a new crossing is told again."""
        tenant = await self.get(slug)
        try:
            budget = parse_budget(words, validation.model)
        except ValueError as exc:
            raise InvalidInput(str(exc), "a budget is <usd> [stop|fallback <model>]") from None
        except InvalidInput:
            raise InvalidInput("model", "a model name looks like gpt-4.1-mini") from None
        return await self._change(tenant.slug, actor, "budget", audit_detail={"usd": budget.usd, "at_limit": budget.action,
                                  "fallback_model": budget.fallback_model},
                                  budget=budget.to_doc(), budget_notices=None)

    async def clear_budget(self, slug: str, actor: str) -> Tenant:
        """No monthly budget any more."""
        return await self._change(slug, actor, "budget", audit_detail={"usd": None}, budget=None, budget_notices=None)

    async def set_budget_notices(self, slug: str, notices: BudgetNotices) -> Tenant | None:
        """What the relay told about the budget this month (not audited: not an admin action)."""
        tenant = await self._repo.update(slug, {"budget_notices": notices.to_doc()})
        self._publish(TenantUpdated(slug))
        return tenant

    async def rotate_landing_token(self, slug: str, actor: str) -> Tenant:
        """A new private link; the old one stops working at once. The returned tenant carries
        the new token in clear (`landing_token`): the only moment it is known."""
        token = new_token()
        tenant = await self._change(slug, actor, "rotate_landing_token", landing_token_hash=hash_token(token))
        return tenant.with_changes(landing_token=token)

    async def issue_bridge_token(self, slug: str) -> str:
        """A fresh bridge token for the next bridge start; only its hash is kept."""
        token = new_token()
        if await self._repo.update(slug, {"bridge_token_hash": hash_token(token)}) is None:
            raise TenantNotFound(slug)
        return token

    async def verify_bridge_token(self, slug: str, token: str) -> Tenant | None:
        """The tenant if `token` is its current bridge token (constant-time compare)."""
        tenant = await self._repo.get(slug) if validation.SLUG_RE.fullmatch(slug or "") else None
        ok = token_matches(token, tenant.bridge_token_hash if tenant else None)
        return tenant if ok else None

    # --- state written by the relay (not audited: not an admin action) -------------

    async def save_whatsapp(self, slug: str, state: WhatsAppState) -> None:
        await self._repo.update(slug, {"whatsapp": whatsapp_doc(state)})

    async def set_suspended(self, slug: str, suspended: bool) -> Tenant | None:
        """The owner's `suspender bot` / `activar bot`."""
        tenant = await self._repo.update(slug, {"suspended": suspended, "updated_at": self._clock.now()})
        self._publish(TenantUpdated(slug))
        return tenant

    async def set_hours_override(self, slug: str, override: Override | None) -> Tenant | None:
        """The owner's `cerrado` / `abierto` (None: back to the schedule)."""
        tenant = await self._repo.update(slug, {"hours_override": override.to_doc() if override else None,
                                                "updated_at": self._clock.now()})
        self._publish(TenantUpdated(slug))
        return tenant

    async def set_attention(self, slug: str, reason: str | None, last_error: str | None = None) -> bool:
        """Mark or clear "needs attention"; True if that changed anything."""
        tenant = await self._repo.get(slug)
        if tenant is None or tenant.attention == reason:
            return False
        changes: dict[str, Any] = {"attention": reason}
        if last_error is not None:
            changes["last_error"] = last_error
        await self._repo.update(slug, changes)
        self._publish(TenantUpdated(slug))
        return True

    async def _change(self, slug: str, actor: str, action: str, audit_detail: dict | None = None, **fields: Any) -> Tenant:
        current = await self.get(slug)
        tenant = await self._repo.update(current.slug, {**fields, "updated_at": self._clock.now()})
        if tenant is None:
            raise TenantNotFound(slug)
        await self._audit.record(actor, action, tenant.slug, **(audit_detail or {}))
        self._publish(TenantUpdated(tenant.slug))
        return tenant


def _check_setting(name: str, value: Any) -> None:
    default = getattr(TenantSettings(), name)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InvalidInput(name, "must be on or off")
    elif isinstance(default, float):
        limits = {"debounce_seconds": (0, 60), "handoff_hours": (0.1, 720), "memory_hours": (1, 720)}
        low, high = limits[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise InvalidInput(name, f"must be a number from {low:g} to {high:g}")
    elif not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise InvalidInput(name, "must be 1-1,000 characters of text")
