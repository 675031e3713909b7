"""The `puente` command: `puente run` and `puente check`. Only here are exit codes chosen."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.logs import register_secret, scrub, setup_logging
from core.settings import ConfigError, Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="puente", description="WhatsApp chatbots powered by OpenAI, run from Telegram.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run Puente: web server, bridges, message pipeline, admin bot")
    sub.add_parser("check", help="validate the configuration and reach every dependency")
    backup = sub.add_parser("backup", help="write a consistent snapshot of the store to FILE (while Puente runs)")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="put the snapshot in FILE back into a stopped Puente")
    restore.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        # Backups need the store only: they work on a machine without the bot's settings.
        settings = load_settings(require_telegram=args.command in ("run", "check"))
        if args.command in ("run", "check"):
            from relay.usage import load_prices

            load_prices(settings.prices_file)  # a malformed PRICES_FILE is a configuration error too
    except ConfigError as exc:
        print(f"puente: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    for secret in settings.secrets:
        register_secret(secret)
    if args.command == "check":
        from puente.checks import run_checks

        return 0 if asyncio.run(run_checks(settings)) else 1
    if args.command in ("backup", "restore"):
        return _backup_or_restore(settings, args.command, args.file)
    return _run(settings)


def _backup_or_restore(settings: Settings, command: str, file: Path) -> int:
    from core.instance_lock import AlreadyRunning
    from core.sqlite import DatabaseError
    from core.store import StoreUnavailable
    from puente.backup import BackupError, backup, restore

    try:
        line = asyncio.run(backup(settings, file) if command == "backup" else restore(settings, file))
    except (BackupError, AlreadyRunning, DatabaseError, StoreUnavailable) as exc:
        print(scrub(f"puente {command}: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:
        print(scrub(f"puente {command}: {exc}"), file=sys.stderr)
        return 1
    print(scrub(line))
    return 0


def _run(settings: Settings) -> int:
    from core.instance_lock import AlreadyRunning
    from core.migrations import SchemaTooNew
    from core.sqlite import DatabaseError
    from core.store import StoreLost, StoreUnavailable
    from puente.app import run
    from tenants.secrets import SecretKeyError

    try:
        asyncio.run(run(settings))
    except (SchemaTooNew, StoreUnavailable, SecretKeyError, ConfigError, DatabaseError, AlreadyRunning) as exc:
        print(scrub(f"puente: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:
        print(scrub(f"puente: cannot start: {exc}"), file=sys.stderr)
        return 1
    except StoreLost as exc:
        print(scrub(f"puente: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
