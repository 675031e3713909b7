"""What the tenant rules refuse, each with a field and a sentence for the operator."""

from __future__ import annotations


class TenantError(Exception):
    """Base of every refusal by the tenant service; nothing was changed."""


class InvalidInput(TenantError):
    """A value has the wrong form; `hint` shows the right one."""

    def __init__(self, field: str, hint: str) -> None:
        super().__init__(f"{field}: {hint}")
        self.field = field
        self.hint = hint


class TenantNotFound(TenantError):
    """No tenant has this slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no tenant with slug {slug!r}")
        self.slug = slug


class SlugTaken(TenantError):
    """Another tenant already has this slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"the slug {slug!r} is already taken")
        self.slug = slug
