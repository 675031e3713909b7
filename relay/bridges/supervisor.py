"""The bridge processes on this host: one per enabled tenant, kept running.

Starts a bridge per enabled tenant at start-up and when a tenant is created or enabled;
stops it (`shutdown`, then SIGTERM, then SIGKILL) when the tenant is disabled or deleted;
restarts a crashed bridge with backoff and tells the operators about a crash loop once.
A per-tenant lock makes sure one tenant never has two processes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from core.bus import EventBus
from core.clock import Clock, SystemClock
from core.data_dir import make_private_dir
from core.events import Alert, AlertKind, TenantCreated, TenantDeleted, TenantDisabled, TenantEnabled, WhatsAppState
from core.metrics import Metrics
from core.settings import ConfigError, Settings
from core.tasks import spawn
from relay.bridges.errors import BridgeError
from relay.bridges.process import BridgeProcess, bridge_environment
from relay.bridges.registry import Bridges
from relay.bridges.restarts import CrashHistory, RestartPolicy
from relay.bridges.states import WhatsAppStates
from tenants.service import TenantService
from tenants.validation import SLUG_RE

log = logging.getLogger("relay.bridge.supervisor")

RelayUrl = str | Callable[[], str]
_LAST_FRAMES_WAIT = 3.0


class _Slot:
    """Everything the supervisor holds for one tenant."""

    def __init__(self, slug: str, policy: RestartPolicy) -> None:
        self.slug = slug
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None
        self.process: BridgeProcess | None = None
        self.stop_requested = asyncio.Event()
        # Asked to run while its process had exited and its loop was still deciding whether
        # the exit is final (a QR asked for just after a qr_timeout stop): start it again.
        self.start_wanted = False
        self.crashes = CrashHistory(policy)

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()


class BridgeSupervisor:
    """Runs BRIDGE_COMMAND once per enabled tenant and keeps it running."""

    def __init__(
        self, settings: Settings, tenants: TenantService, bridges: Bridges, states: WhatsAppStates,
        bus: EventBus, metrics: Metrics, relay_url: RelayUrl, *, clock: Clock | None = None,
        policy: RestartPolicy | None = None, shutdown_grace: float = 5.0, kill_grace: float = 10.0,
    ) -> None:
        try:
            self._argv = shlex.split(settings.bridge_command)
        except ValueError as exc:
            raise ConfigError(f"BRIDGE_COMMAND: cannot be split like a command line ({exc})") from None
        self._settings = settings
        self._tenants = tenants
        self._bridges = bridges
        self._states = states
        self._bus = bus
        self._metrics = metrics
        self._relay_url = relay_url
        self._clock = clock or SystemClock()
        self._policy = policy or RestartPolicy()
        self._shutdown_grace = shutdown_grace
        self._kill_grace = kill_grace
        self._slots: dict[str, _Slot] = {}
        self._event_tasks: set[asyncio.Task] = set()
        self._subscribed = False
        self._stopping = False

    @property
    def enabled(self) -> bool:
        """Whether this relay starts bridges at all (BRIDGE_COMMAND is not empty)."""
        return bool(self._argv)

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start a bridge for every enabled tenant and follow tenant events."""
        self._stopping = False
        if not self._subscribed:
            self._bus.subscribe(
                "bridge-supervisor", self._on_tenant_event, TenantCreated, TenantEnabled, TenantDisabled, TenantDeleted
            )
            self._subscribed = True
        if not self.enabled:
            log.info("BRIDGE_COMMAND is empty: bridges are started elsewhere")
            return
        for tenant in await self._tenants.all(enabled_only=True):
            await self.ensure_running(tenant.slug)

    async def stop(self) -> None:
        """Stop every bridge (shutdown, SIGTERM, SIGKILL), all at once."""
        self._stopping = True
        if self._event_tasks:  # let a delete in progress finish removing its session
            await asyncio.wait(set(self._event_tasks))
        await asyncio.gather(*(self.stop_bridge(slug) for slug in list(self._slots)), return_exceptions=True)

    # --- per tenant --------------------------------------------------------------

    def is_running(self, slug: str) -> bool:
        """Whether the tenant's bridge process is alive."""
        slot = self._slots.get(slug)
        return slot is not None and slot.process is not None and slot.process.running

    def pid(self, slug: str) -> int | None:
        """The tenant's bridge process id, when it runs."""
        return self._slots[slug].process.pid if self.is_running(slug) else None

    async def ensure_running(self, slug: str) -> bool:
        """Start the tenant's bridge unless it is kept running already; True if started now."""
        if not self.enabled:
            raise BridgeError("this relay does not start bridges (BRIDGE_COMMAND is empty)")
        if self._stopping:
            return False
        slot = self._slot(slug)
        async with slot.lock:
            return self._start_locked(slot)

    async def restart(self, slug: str) -> None:
        """Stop the tenant's bridge if it runs and start a fresh one (a new login, a new QR)."""
        if not self.enabled:
            raise BridgeError("this relay does not start bridges (BRIDGE_COMMAND is empty)")
        slot = self._slot(slug)
        async with slot.lock:
            await self._stop_locked(slot)
            if not self._stopping:
                self._start_locked(slot)

    async def stop_bridge(self, slug: str, *, remove_session: bool = False) -> None:
        """Stop the tenant's bridge and keep it stopped; optionally delete its WhatsApp session."""
        slot = self._slot(slug)
        async with slot.lock:
            await self._stop_locked(slot)
            if remove_session:  # the slot stays: a tenant re-created with this slug reuses its lock
                await asyncio.to_thread(self._remove_session, slug)

    def _slot(self, slug: str) -> _Slot:
        if slug not in self._slots:
            self._slots[slug] = _Slot(slug, self._policy)
        return self._slots[slug]

    def _start_locked(self, slot: _Slot) -> bool:
        if self._stopping:
            return False
        if slot.active:
            if slot.process is None or not slot.process.running:
                slot.start_wanted = True  # exited, its loop still winding down (or backing off)
            return False
        slot.stop_requested = asyncio.Event()
        slot.task = spawn(self._keep_running(slot), name=f"bridge:{slot.slug}")
        return True

    async def _stop_locked(self, slot: _Slot) -> None:
        if not slot.active:
            return
        slot.stop_requested.set()
        # asyncio.wait, not gather: a cancelled caller must not cancel the loop mid-stop.
        await asyncio.wait({slot.task})

    # --- the process loop --------------------------------------------------------

    async def _keep_running(self, slot: _Slot) -> None:
        """Run the bridge, and again after a crash, until asked to stop or it stops for good."""
        while not slot.stop_requested.is_set():
            process = await self._launch(slot)
            slot.start_wanted = False  # a start asked for until now is this one
            started = self._clock.monotonic()
            code = await self._wait(slot, process) if process else None
            up = self._clock.monotonic() - started
            # Its last frames (a final `status`) may still be in flight: let them land first.
            await self._bridges.wait_disconnected(slot.slug, _LAST_FRAMES_WAIT)
            last = self._states.get(slot.slug)
            await self._states.mark_stopped(slot.slug)
            if slot.stop_requested.is_set():
                break
            # start_wanted is read after the await too: a QR asked for meanwhile still counts
            # (past the `break` nothing awaits, so none can be asked for unseen).
            if await self._stays_stopped(slot.slug, code, last, slot.start_wanted) and not slot.start_wanted:
                break
            if not slot.start_wanted:  # asked for again (a QR), not a crash: no back-off
                await self._back_off(slot, code, up)
        slot.process = None

    async def _launch(self, slot: _Slot) -> BridgeProcess | None:
        """Start one process with a fresh token; None if it could not start."""
        slug = slot.slug
        try:
            tenant = await self._tenants.find(slug)
            if tenant is None or not tenant.enabled:
                return None  # disabled or deleted meanwhile; _stays_stopped ends the loop
            token = await self._tenants.issue_bridge_token(slug)
            session_dir = self.session_dir(slug)
            await asyncio.to_thread(make_private_dir, session_dir)
            env = bridge_environment(
                os.environ, relay_url=self._url(), slug=slug, token=token, session_dir=session_dir,
                log_level=self._settings.log_level, allow=self._settings.bridge_env_allow,
            )
            process = BridgeProcess(slug, self._argv, env, Path.cwd(), secret=token)
            await process.start()
        except Exception as exc:  # noqa: BLE001 - the boundary: a failed start is retried like a crash
            log.error("tenant %s: the bridge could not be started: %s", slug, exc)
            return None
        slot.process = process
        log.info("tenant %s: bridge started (pid %s)", slug, process.pid)
        return process

    async def _wait(self, slot: _Slot, process: BridgeProcess) -> int | None:
        """Wait for the process to exit, or stop it when asked to; its exit status."""
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(slot.stop_requested.wait())
        try:
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            process.signal(signal.SIGTERM)  # never leave an orphan behind
            raise
        finally:
            stopping.cancel()
        if not exited.done():
            await self._terminate(slot.slug, process)
        code = await exited
        log.info("tenant %s: bridge exited with status %s", slot.slug, code)
        return code

    async def _terminate(self, slug: str, process: BridgeProcess) -> None:
        """`shutdown`, then SIGTERM, then SIGKILL, each after a grace period."""
        try:
            await self._bridges.shutdown(slug)
        except BridgeError:
            pass  # not connected (or just closed with 4410): it may be exiting already
        if await process.wait_exit(self._shutdown_grace):
            return
        log.warning("tenant %s: the bridge did not exit after shutdown; sending SIGTERM", slug)
        process.signal(signal.SIGTERM)
        if await process.wait_exit(self._kill_grace):
            return
        log.warning("tenant %s: the bridge ignored SIGTERM for %g s; sending SIGKILL", slug, self._kill_grace)
        process.signal(signal.SIGKILL)
        await process.wait_exit(self._kill_grace)

    async def _stays_stopped(self, slug: str, code: int | None, last: WhatsAppState, wanted: bool = False) -> bool:
        """Whether an exit is final: tenant gone or disabled, or a stop the bridge reported
        (qr_timeout) that nobody asked to undo since (`wanted`: a QR was asked for meanwhile)."""
        tenant = await self._tenants.find(slug)
        if tenant is None or not tenant.enabled:
            log.info("tenant %s: bridge not restarted: the tenant is %s", slug, "deleted" if tenant is None else "disabled")
            return True
        if code == 0 and last.state == "stopped" and last.reason and not wanted:
            log.info("tenant %s: bridge stopped (%s); it starts again when a QR is asked for", slug, last.reason)
            return True
        return False

    async def _back_off(self, slot: _Slot, code: int | None, up: float) -> None:
        delay, crash_loop = slot.crashes.crashed(up, self._clock.monotonic())
        log.warning("tenant %s: bridge exited unexpectedly (status %s); restarting in %.1f s", slot.slug, code, delay)
        self._metrics.bridge_restarts.labels(slot.slug).inc()
        if crash_loop:
            policy = self._policy
            self._bus.publish(Alert(slot.slug, AlertKind.CRASH_LOOP, {
                "crashes": str(policy.loop_crashes), "minutes": f"{policy.loop_window / 60:g}",
                "exit_status": str(code),
            }))
        try:
            await asyncio.wait_for(slot.stop_requested.wait(), delay)
        except TimeoutError:
            pass

    # --- sessions, URL, events ---------------------------------------------------

    def session_dir(self, slug: str) -> Path:
        """The tenant's WhatsApp session directory (refuses anything outside sessions_dir)."""
        root = self._settings.sessions_dir.resolve()
        if not SLUG_RE.fullmatch(slug or ""):
            raise BridgeError(f"not a tenant id: {slug[:40]!r}")
        path = (root / slug).resolve()
        if path.parent != root:
            raise BridgeError(f"the session directory of {slug!r} is outside {root}")
        return path

    def _remove_session(self, slug: str) -> None:
        path = self.session_dir(slug)
        if path.exists():
            shutil.rmtree(path)
        log.info("tenant %s: WhatsApp session removed", slug)

    def _url(self) -> str:
        return self._relay_url() if callable(self._relay_url) else self._relay_url

    async def _on_tenant_event(self, event: object) -> None:
        # Each change runs in its own task so one slow stop does not hold up other
        # tenants; the per-tenant lock keeps one tenant's changes in order.
        task = spawn(self._apply(event), name=f"bridge-event:{type(event).__name__}")
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _apply(self, event: object) -> None:
        if not self.enabled or self._stopping:
            return
        slug = event.tenant
        if isinstance(event, (TenantCreated, TenantEnabled)):
            await self.ensure_running(slug)
        elif isinstance(event, TenantDisabled):
            await self.stop_bridge(slug)
        elif isinstance(event, TenantDeleted):
            await self.stop_bridge(slug, remove_session=True)
