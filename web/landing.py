"""The client's landing page, GET /c/{landing_token}: link WhatsApp, see the assistant.

Routes: the page, its live updates (/events, Server-Sent Events), the pairing-code form
(/pair) and the "new QR" button (/qr). A token that does not open a page costs the
same lookup as one that does, and repeated misses from one address are refused (429).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any, Protocol

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_sse import EventSourceResponse

from core.bus import EventBus
from core.client_address import client_address
from core.clock import Clock
from core.events import WhatsAppState
from core.settings import Settings
from tenants import validation
from tenants.errors import InvalidInput
from tenants.model import Tenant
from tenants.service import TenantService
from web.events import LiveUpdates, PageStream, SharedRenders
from web.i18n import pick_language, steps, texts
from web.security import FormTokens, RateLimiter, cross_site, install_security_headers
from web.status_panel import PanelView, build_view, fingerprint, panel_kind

log = logging.getLogger("web.landing")

HERE = Path(__file__).parent
TEMPLATES_KEY = web.AppKey("landing_templates", jinja2.Environment)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
PAIR_TIMEOUT = 45.0
SSE_PING_SECONDS = 15.0


class WhatsAppStateSource(Protocol):
    """relay.bridges.states.WhatsAppStates, as far as the page needs it."""

    def get(self, slug: str) -> WhatsAppState: ...


class WhatsAppLoginActions(Protocol):
    """relay.bridges.login.WhatsAppLogin, as far as the page needs it."""

    async def request_qr(self, slug: str) -> object: ...

    async def pairing_code(self, slug: str, phone: str) -> str: ...


class TenantStats(Protocol):
    """relay.stats.Stats, as far as the page needs it."""

    async def tenant_summary(self, slug: str) -> Any: ...


class _Refused(Exception):
    """The request gets the plain error page with this status."""

    def __init__(self, status: int) -> None:
        self.status = status


class LandingPages:
    """Serves every tenant's landing page on the shared aiohttp application."""

    def __init__(
        self,
        settings: Settings,
        tenants: TenantService,
        states: WhatsAppStateSource,
        login: WhatsAppLoginActions,
        stats: TenantStats,
        bus: EventBus,
        clock: Clock,
        *,
        misses_per_window: int = 20,
        pairings_per_window: int = 5,
        window_seconds: float = 600.0,
        form_key: bytes | None = None,
        streams_per_link: int = 10,
        streams_per_address: int = 20,
    ) -> None:
        self._settings = settings
        self._tenants = tenants
        self._states = states
        self._login = login
        self._stats = stats
        self._live = LiveUpdates(bus, per_link=streams_per_link, per_address=streams_per_address,
                                 total=settings.landing_streams_max)
        self._renders = SharedRenders()
        self._misses = RateLimiter(misses_per_window, window_seconds, clock)
        self._pairings = RateLimiter(pairings_per_window, window_seconds, clock)
        self._qr_requests = RateLimiter(pairings_per_window, window_seconds, clock)
        self._forms = FormTokens(form_key)  # stable across restarts when given
        self._decoy = secrets.token_urlsafe(24)  # looked up for malformed tokens: same work
        self._env: jinja2.Environment | None = None

    def install(self, app: web.Application) -> None:
        """Add the routes, templates, static files and security headers to `app`."""
        self._env = aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(HERE / "templates"), app_key=TEMPLATES_KEY,
            autoescape=True, trim_blocks=True, lstrip_blocks=True,
        )
        install_security_headers(app)
        app.middlewares.append(self._error_pages)
        app.router.add_get("/c/{token}", self._page)
        app.router.add_get("/c/{token}/events", self._events)
        app.router.add_post("/c/{token}/pair", self._pair)
        app.router.add_post("/c/{token}/qr", self._new_qr)
        app.router.add_static("/static/", HERE / "static")
        app.on_shutdown.append(self._on_app_shutdown)

    async def start(self) -> None:
        """Nothing to start: the bus subscriptions were made in the constructor."""

    async def stop(self) -> None:
        """End every open live-update stream so the server can shut down at once."""
        self._live.close_all()

    async def _on_app_shutdown(self, app: web.Application) -> None:
        # Open streams would otherwise hold the server's shutdown for its whole timeout.
        self._live.close_all()

    @property
    def live(self) -> LiveUpdates:
        """The open pages' streams (tests and metrics look at it)."""
        return self._live

    # --- finding the tenant -------------------------------------------------------

    async def _tenant_for(self, request: web.Request) -> Tenant:
        address = client_address(request, self._settings.trusted_proxies)
        if self._misses.blocked(address):
            raise _Refused(429)
        tenant = await self._find(request.match_info.get("token", ""))
        if tenant is None:
            self._misses.hit(address)
            log.info("landing page miss from %s", address)
            raise _Refused(404)
        return tenant

    async def _find(self, token: str) -> Tenant | None:
        well_formed = TOKEN_RE.fullmatch(token) is not None
        tenant = await self._tenants.by_landing_token(token if well_formed else self._decoy)
        return tenant if well_formed else None

    @web.middleware
    async def _error_pages(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Refused as refused:
            return self._error_page(request, refused.status)
        except web.HTTPNotFound:
            if request.path.startswith("/c/"):  # a token path no route matched: same as a miss
                try:
                    await self._tenant_for(request)
                except _Refused as refused:
                    return self._error_page(request, refused.status)
            return self._error_page(request, 404)

    def _error_page(self, request: web.Request, status: int) -> web.Response:
        language = pick_language(request.headers.get("Accept-Language"))
        t = texts(language)
        key = "not_found" if status == 404 else "rate_limited"
        context = {"lang": language, "t": t, "title": t[f"{key}_title"], "message": t[key]}
        response = aiohttp_jinja2.render_template("error.html", request, context, app_key=TEMPLATES_KEY, status=status)
        if status == 429:
            response.headers["Retry-After"] = "600"
        return response

    # --- the page -----------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        tenant = await self._tenant_for(request)
        state = self._states.get(tenant.slug)
        shown = state
        if request.query.get("starting") and panel_kind(tenant, state) == "offline":
            shown = dataclasses.replace(state, state="starting")  # just asked for a QR: say so
        return await self._render_page(request, tenant, shown, seen=fingerprint(tenant, state))

    async def _render_page(
        self, request: web.Request, tenant: Tenant, state: WhatsAppState, *,
        status: int = 200, seen: str | None = None, **extra: Any,
    ) -> web.Response:
        language = pick_language(request.headers.get("Accept-Language"))
        view = await self._view(tenant, state, language, **extra)
        token = _token(request)
        context = self._panel_context(token, view, language)
        context.update(
            tenant=tenant,
            events_url=f"/c/{token}/events?seen={seen or fingerprint(tenant, state)}",
            page_url=f"/c/{token}",
        )
        response = aiohttp_jinja2.render_template("page.html", request, context, app_key=TEMPLATES_KEY, status=status)
        response.headers["Content-Language"] = language
        return response

    async def _view(self, tenant: Tenant, state: WhatsAppState, language: str, **extra: Any) -> PanelView:
        if panel_kind(tenant, state) == "connected":
            try:
                summary = await self._stats.tenant_summary(tenant.slug)
                extra.update(answered_today=summary.answered_today, paused_chats=summary.paused_chats)
            except Exception:
                log.exception("stats for %s unavailable; page shown without them", tenant.slug)
        return build_view(tenant, state, language, **extra)

    def _panel_context(self, token: str, view: PanelView, language: str) -> dict[str, Any]:
        return {
            "lang": language,
            "t": texts(language),
            "view": view,
            "token": token,
            "form_token": self._forms.issue(token),
            "android_steps": steps(language, "android_steps"),
            "iphone_steps": steps(language, "iphone_steps"),
            "pairing_steps": steps(language, "pairing_steps"),
        }

    # --- the forms ----------------------------------------------------------------

    async def _form(self, request: web.Request, tenant: Tenant) -> dict[str, str] | None:
        """The posted fields, or None when the post did not come from this page."""
        form = await request.post()
        if cross_site(request, self._settings.public_url):
            return None
        if not self._forms.valid(_token(request), str(form.get("form_token", ""))):
            return None
        return {k: str(v) for k, v in form.items() if isinstance(v, str)}

    async def _pair(self, request: web.Request) -> web.Response:
        tenant = await self._tenant_for(request)
        state = self._states.get(tenant.slug)
        t = texts(pick_language(request.headers.get("Accept-Language")))
        form = await self._form(request, tenant)
        if form is None:
            return await self._render_page(request, tenant, state, status=403, error=t["form_expired"])
        if panel_kind(tenant, state) not in ("waiting_qr", "pairing"):
            raise web.HTTPSeeOther(f"/c/{_token(request)}")
        typed = form.get("phone", "")[:40]
        try:
            phone = validation.phone(typed)
        except InvalidInput:
            return await self._render_page(
                request, tenant, state, status=400, pair_error=t["bad_phone"], phone_value=typed
            )
        if not self._pairings.hit(tenant.slug):
            return await self._render_page(
                request, tenant, state, status=429, pair_error=t["too_many_pairs"], phone_value=typed
            )
        try:
            code = await asyncio.wait_for(self._login.pairing_code(tenant.slug, phone), PAIR_TIMEOUT)
        except Exception as exc:
            log.warning("pairing code for %s failed: %s", tenant.slug, type(exc).__name__)
            return await self._render_page(
                request, tenant, state, status=503, pair_error=t["pair_failed"], phone_value=typed
            )
        shown = dataclasses.replace(self._states.get(tenant.slug), state="pairing", pairing_code=code)
        return await self._render_page(request, tenant, shown, seen=fingerprint(tenant, shown))

    async def _new_qr(self, request: web.Request) -> web.Response:
        tenant = await self._tenant_for(request)
        state = self._states.get(tenant.slug)
        t = texts(pick_language(request.headers.get("Accept-Language")))
        if await self._form(request, tenant) is None:
            return await self._render_page(request, tenant, state, status=403, error=t["form_expired"])
        if panel_kind(tenant, state) != "offline":
            raise web.HTTPSeeOther(f"/c/{_token(request)}")
        if not self._qr_requests.hit(tenant.slug):
            return await self._render_page(request, tenant, state, status=429, error=t["too_many_qr"])
        try:
            await self._login.request_qr(tenant.slug)
        except Exception as exc:
            log.warning("new QR for %s failed: %s", tenant.slug, type(exc).__name__)
            return await self._render_page(request, tenant, state, status=503, error=t["qr_failed"])
        raise web.HTTPSeeOther(f"/c/{_token(request)}?starting=1")

    # --- live updates -------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        tenant = await self._tenant_for(request)
        address = client_address(request, self._settings.trusted_proxies)
        refusal = self._live.refusal(tenant.slug, address)
        if refusal is not None:
            log.info("live updates of %s refused to %s: %s", tenant.slug, address, refusal)
            raise _Refused(429)
        language = pick_language(request.headers.get("Accept-Language"))
        seen = request.headers.get("Last-Event-ID") or request.query.get("seen", "")
        response = EventSourceResponse(ping_interval=SSE_PING_SECONDS)
        stream = self._live.open(tenant.slug, address)
        try:
            await response.prepare(request)
            async with response:
                await self._stream(response, stream, tenant, _token(request), language, seen)
        except (ConnectionError, TimeoutError):
            log.debug("landing page stream of %s went away", tenant.slug)
        finally:
            self._live.close(stream)
        return response

    async def _stream(
        self, response: EventSourceResponse, stream: PageStream, tenant: Tenant, token: str, language: str, seen: str
    ) -> None:
        shown = self._states.get(tenant.slug)
        if fingerprint(tenant, shown) != seen:
            await self._send_panel(response, tenant, token, shown, language)
        gone = asyncio.ensure_future(response.wait())
        try:
            while await _woken(stream, gone):
                if stream.reload:
                    await response.send("{}", event="reload")
                    return
                state = stream.take()
                if state is None or fingerprint(tenant, state) == fingerprint(tenant, shown):
                    continue
                if _only_qr_changed(shown, state) and state.qr:
                    data = await self._renders.get(("qr", token, fingerprint(tenant, state), language),
                                                   lambda: self._qr_data(tenant, state, language))
                    await response.send(data, id=fingerprint(tenant, state), event="qr")
                else:
                    await self._send_panel(response, tenant, token, state, language)
                shown = state
        finally:
            gone.cancel()

    async def _send_panel(
        self, response: EventSourceResponse, tenant: Tenant, token: str, state: WhatsAppState, language: str
    ) -> None:
        # Every open page of the tenant shows the same panel: rendered once, sent to all.
        data = await self._renders.get(("panel", token, fingerprint(tenant, state), language),
                                       lambda: self._panel_data(tenant, token, state, language))
        await response.send(data, id=fingerprint(tenant, state), event="panel")

    async def _panel_data(self, tenant: Tenant, token: str, state: WhatsAppState, language: str) -> str:
        view = await self._view(tenant, state, language)
        assert self._env is not None, "install() first"
        html = self._env.get_template("panel.html").render(self._panel_context(token, view, language))
        return json.dumps({"state": view.kind, "html": html})

    async def _qr_data(self, tenant: Tenant, state: WhatsAppState, language: str) -> str:
        # Drawing a QR costs milliseconds of CPU: off the event loop, once per QR and language.
        view = await asyncio.to_thread(build_view, tenant, state, language)
        return json.dumps({"svg": view.qr_svg})


def _token(request: web.Request) -> str:
    """The landing token of a request whose tenant was found (the stored one is only a hash)."""
    return request.match_info["token"]


async def _woken(stream: PageStream, gone: asyncio.Future[None]) -> bool:
    """Wait for news on `stream`; False when the page went away or the stream closed."""
    waiter = asyncio.ensure_future(stream.wait())
    try:
        await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    return not gone.done() and not stream.closed


def _only_qr_changed(before: WhatsAppState, after: WhatsAppState) -> bool:
    return before.state == after.state == "waiting_qr" and dataclasses.replace(
        before, qr=after.qr, qr_expires_at=after.qr_expires_at, updated_at=after.updated_at
    ) == after
