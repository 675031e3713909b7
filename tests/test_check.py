"""`puente check`: one line per dependency, reached for real; exit 1 when one fails."""

from __future__ import annotations

from core.settings import Settings
from puente.checks import run_checks
from tests.fakes import FakeTelegram


async def test_check_reaches_every_dependency_and_says_so(tmp_path, capsys):
    async with FakeTelegram() as telegram:
        settings = Settings(telegram_bot_token=telegram.token, telegram_admin_ids=(1,),
                            telegram_api_url=telegram.url, data_dir=tmp_path / "data")
        assert await run_checks(settings) is True
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"ok    store: embedded store in {tmp_path / 'data'}",
        "ok    telegram: admin bot @puente_test_bot",
        "ok    smtp: not configured: invite e-mails are off",
        lines[3],
    ]
    assert lines[3].startswith("ok    bridge: node v") and lines[3].endswith("bridge packages present")


async def test_check_fails_with_one_line_for_a_wrong_token_and_a_missing_bridge(tmp_path, capsys):
    async with FakeTelegram() as telegram:
        settings = Settings(telegram_bot_token="1:wrong-token", telegram_admin_ids=(1,),
                            telegram_api_url=telegram.url, data_dir=tmp_path / "data",
                            bridge_command="no-such-node-binary bridge_node/src/main.mjs")
        assert await run_checks(settings) is False
    out = capsys.readouterr().out
    assert "FAIL  telegram:" in out
    assert "FAIL  bridge: no-such-node-binary is not installed" in out
    assert "wrong-token" not in out
