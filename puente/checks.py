"""`puente check`: one line per dependency, reached for real."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.logs import register_secret, scrub
from core.settings import Settings
from core.store import store_for

Check = Callable[[Settings], Awaitable[str]]


async def check_store(settings: Settings) -> str:
    store = store_for(settings)
    try:
        await store.start()
    finally:
        await store.stop()
    return "embedded store in " + str(settings.data_dir) if store.embedded else "MongoDB answers"


async def check_telegram(settings: Settings) -> str:
    from telegram import Bot

    bot = Bot(settings.telegram_bot_token or "", base_url=f"{settings.telegram_api_url}/bot")
    async with bot:
        me = await bot.get_me()
    return f"admin bot @{me.username}"


async def check_smtp(settings: Settings) -> str:
    if not settings.email_enabled:
        return "not configured: invite e-mails are off"
    from tenants.invites import smtp_login_check

    await smtp_login_check(settings)
    return f"{settings.smtp_host}:{settings.smtp_port or 'default port'} accepts the login"


async def check_bridge(settings: Settings) -> str:
    argv = shlex.split(settings.bridge_command)
    if not argv or shutil.which(argv[0]) is None:
        raise RuntimeError(f"{argv[0] if argv else 'BRIDGE_COMMAND'} is not installed")
    proc = await asyncio.create_subprocess_exec(argv[0], "--version", stdout=asyncio.subprocess.PIPE)
    version = (await proc.communicate())[0].decode().strip()
    packages = Path("bridge_node/node_modules/baileys")
    if argv[-1].startswith("bridge_node/") and not packages.exists():
        raise RuntimeError("the bridge's packages are missing: run `npm ci` in bridge_node/")
    return f"{argv[0]} {version}, bridge packages present"


CHECKS: list[tuple[str, Check]] = [
    ("store", check_store),
    ("telegram", check_telegram),
    ("smtp", check_smtp),
    ("bridge", check_bridge),
]


async def run_checks(settings: Settings, checks: list[tuple[str, Check]] = CHECKS) -> bool:
    """Run every check, print one line each; True if all passed. No secret is printed."""
    for secret in settings.secrets:
        register_secret(secret)
    ok = True
    for name, check in checks:
        try:
            detail = await asyncio.wait_for(check(settings), 20)
            print(f"ok    {name}: {detail}")
        except Exception as exc:
            ok = False
            reason = str(exc) or type(exc).__name__
            print(scrub(f"FAIL  {name}: {reason.splitlines()[0]}"))
    return ok
