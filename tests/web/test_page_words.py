"""The small decisions behind the page's words: language, masked numbers, codes."""

from __future__ import annotations

import pytest

from core.clock import SystemClock
from tests.support.clock import FakeClock
from web.i18n import TEXTS, pick_language
from web.security import RateLimiter
from web.status_panel import format_code, mask_phone


@pytest.mark.parametrize(
    "header, language",
    [
        (None, "es"),
        ("", "es"),
        ("en-US,en;q=0.9", "en"),
        ("es-CL,es;q=0.9,en;q=0.8", "es"),
        ("en;q=0.4,es;q=0.8", "es"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("fr-FR,fr;q=0.9", "es"),
        ("en;q=0", "es"),
        ("en;q=banana", "es"),
    ],
)
def test_spanish_unless_the_browser_prefers_english(header, language):
    assert pick_language(header) == language


def test_every_text_exists_in_both_languages():
    assert TEXTS["es"].keys() == TEXTS["en"].keys()


@pytest.mark.parametrize(
    "phone, shown",
    [
        ("56912342222", "+56 9 ••••• 2222"),
        ("5491155550000", "+54 9 ••••• 0000"),
        ("12345678", "••••• 5678"),
        (None, "•••••"),
    ],
)
def test_linked_numbers_are_shown_without_their_middle(phone, shown):
    assert mask_phone(phone) == shown


def test_pairing_codes_are_grouped_as_the_phone_shows_them():
    assert format_code("k7q2m9xz") == "K7Q2-M9XZ"


def test_rate_limiter_forgets_hits_older_than_its_window():
    clock = FakeClock()
    limiter = RateLimiter(2, 60, clock)
    assert limiter.hit("a") and limiter.hit("a")
    assert not limiter.hit("a") and limiter.blocked("a")
    assert limiter.hit("b")  # other keys are counted apart
    clock.advance(seconds=61)
    assert not limiter.blocked("a") and limiter.hit("a")


def test_rate_limiter_keeps_its_memory_bounded():
    limiter = RateLimiter(1, 60, SystemClock(), max_keys=100)
    for n in range(1000):
        limiter.hit(f"address-{n}")
    assert len(limiter) <= 100
    assert limiter.blocked("address-999")
