"""One bridge child process: started with its environment, its output in Puente's log."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path

from core.logs import scrub
from core.tasks import cancel, spawn

_LINE_LIMIT = 1024 * 1024  # a longer line is cut, not fatal
_SHOWN_CHARS = 4000
# pino's numeric levels -> logging levels
_PINO_LEVELS = {10: logging.DEBUG, 20: logging.DEBUG, 30: logging.INFO, 40: logging.WARNING, 50: logging.ERROR, 60: logging.CRITICAL}


class BridgeProcess:
    """A running bridge; its stdout/stderr lines go to logger `relay.bridge.<slug>`."""

    def __init__(self, slug: str, argv: list[str], env: Mapping[str, str], cwd: Path, secret: str) -> None:
        self.slug = slug
        self._argv = argv
        self._env = dict(env)
        self._cwd = cwd
        self._secret = secret
        self._log = logging.getLogger(f"relay.bridge.{slug}")
        self._proc: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task] = []

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        """Started and not yet exited."""
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start the process (OSError if the command cannot be run)."""
        self._proc = await asyncio.create_subprocess_exec(
            *self._argv, env=self._env, cwd=self._cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT, start_new_session=True,  # Ctrl-C reaches the relay only; it stops bridges itself
            umask=0o077,  # the WhatsApp session files it writes are readable by Puente's user only
        )
        self._pumps = [
            spawn(self._pump(self._proc.stdout, logging.INFO), name=f"bridge-out:{self.slug}"),
            spawn(self._pump(self._proc.stderr, logging.WARNING), name=f"bridge-err:{self.slug}"),
        ]

    async def wait(self) -> int:
        """Wait for the exit and the last output lines; the exit status (negative: signal)."""
        assert self._proc is not None
        code = await self._proc.wait()
        try:
            await asyncio.wait_for(asyncio.gather(*self._pumps), 2.0)
        except TimeoutError:
            await cancel(*self._pumps)
        # asyncio never closes a subprocess transport by itself; unclosed, it warns when collected.
        transport = getattr(self._proc, "_transport", None)
        if transport is not None:
            transport.close()
        return code

    async def wait_exit(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the exit; whether it exited."""
        if self._proc is None:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._proc.wait()), timeout)
        except TimeoutError:
            return False
        return True

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to the process, if it still runs."""
        if self.running:
            try:
                self._proc.send_signal(sig)
            except ProcessLookupError:
                pass

    async def _pump(self, stream: asyncio.StreamReader | None, level: int) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # longer than the limit: drop what was buffered
                raw = b"(a line too long to log was cut)\n"
                await stream.read(_LINE_LIMIT)
            if not raw:
                return
            self._emit(raw.decode("utf-8", "replace").rstrip(), level)

    def _emit(self, line: str, level: int) -> None:
        if not line:
            return
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                level = _PINO_LEVELS.get(record.get("level"), level)
        if not self._log.isEnabledFor(level):
            return
        text = line[:_SHOWN_CHARS]
        if self._secret:
            text = text.replace(self._secret, "***")
        self._log.log(level, "%s", scrub(text))


# What a bridge inherits from the relay's environment: never the relay's own secrets
# (TELEGRAM_BOT_TOKEN, SMTP_PASSWORD, SECRET_KEY, MONGODB_URI…). BRIDGE_ENV_ALLOW adds names.
INHERITED_NAMES = frozenset({"PATH", "HOME", "LANG", "TZ"})
INHERITED_PREFIXES = ("PUENTE_", "LC_", "NODE_")


def inherited(base: Mapping[str, str], allow: Iterable[str] = ()) -> dict[str, str]:
    """The part of `base` a bridge may see: the allowlist, plus the names in `allow`."""
    names = INHERITED_NAMES | set(allow)
    return {name: value for name, value in base.items() if name in names or name.startswith(INHERITED_PREFIXES)}


def bridge_environment(base: Mapping[str, str], *, relay_url: str, slug: str, token: str, session_dir: Path,
                       log_level: str, allow: Iterable[str] = ()) -> dict[str, str]:
    """The allowlisted part of `base` plus the docs/PROTOCOL.md variables."""
    env = inherited(base, allow)
    env.update(
        PUENTE_RELAY_URL=relay_url,
        PUENTE_TENANT=slug,
        PUENTE_BRIDGE_TOKEN=token,
        PUENTE_SESSION_DIR=str(session_dir),
        PUENTE_LOG_LEVEL={"warning": "warn"}.get(log_level, log_level),
    )
    return env

