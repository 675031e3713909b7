"""How long a crashed bridge waits before it is started again, and when that is a loop."""

from __future__ import annotations

from relay.bridges.restarts import CrashHistory, RestartPolicy


def test_restart_delay_doubles_from_one_second_to_a_minute() -> None:
    history = CrashHistory(RestartPolicy())
    delays = [history.crashed(up_seconds=2, now=1000.0 + 61 * n)[0] for n in range(9)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_five_minutes_up_resets_the_delay() -> None:
    history = CrashHistory(RestartPolicy())
    for n in range(4):
        history.crashed(up_seconds=1, now=float(n))
    assert history.crashed(up_seconds=300, now=1000.0)[0] == 1


def test_a_crash_loop_is_reported_once_until_the_bridge_stayed_up_five_minutes() -> None:
    history = CrashHistory(RestartPolicy())
    alerts = [history.crashed(up_seconds=1, now=float(n))[1] for n in range(8)]
    assert alerts == [False, False, False, False, True, False, False, False]
    history.crashed(up_seconds=301, now=1000.0)  # it ran fine for a while, then crashed once
    alerts = [history.crashed(up_seconds=1, now=1001.0 + n)[1] for n in range(5)]
    assert alerts == [False, False, False, True, False]


def test_crashes_spread_over_more_than_five_minutes_are_not_a_loop() -> None:
    history = CrashHistory(RestartPolicy())
    alerts = [history.crashed(up_seconds=1, now=100.0 * n)[1] for n in range(10)]
    assert not any(alerts)
