"""``python -m bot health`` (issue 12, items 1 and 4) read from the report a running bot writes:
what it says of a loop that fails, of a report gone old (a stuck bot), of a bot that stopped.
(The real process, its database locked: tests/test_process.py.)"""

from __future__ import annotations

import sqlite3
import time

import pytest

from bot import cli
from storage import health, instance
from storage.db import Database


@pytest.fixture
async def live(tmp_path, monkeypatch):
    path = tmp_path / "live.sqlite3"
    db = await Database.open(path)
    await db.close()
    monkeypatch.setenv("GIAMNGHEO_DB", str(path))
    return path


def report(path, loops: health.Health, **extra) -> None:
    health.write_report(path, loops.report(channels=["zalo"], heartbeat_every=2.0, **extra))


def test_a_failing_loop_is_named_with_its_error_and_the_exit_status_is_1(live, capsys):
    loops = health.Health()
    delivery = loops.loop("dispatcher", "the outbox's delivery", every=1.0)
    delivery.ok()
    delivery.failed(sqlite3.OperationalError("database is locked"))
    delivery.failed(sqlite3.OperationalError("database is locked"))
    loops.loop("planner", "the calendar's planning").ok()
    with instance.acquire(live):
        report(live, loops, stopped=False)
        assert cli.main(["health"]) == 1
        out = capsys.readouterr().out
        assert "Bot: running (pid" in out and "on Zalo" in out
        assert ("FAILING   the outbox's delivery: for 0 s (2 tries): OperationalError: "
                "database is locked") in out
        assert "ok        the calendar's planning: last succeeded 0 s ago" in out
        assert "Waiting: no message in the inbox; 0 outbox message(s) due" in out
        assert out.rstrip().endswith("Not well: 1 loop(s) failing.")
        delivery.ok()
        report(live, loops, stopped=False)
        assert cli.main(["health"]) == 0
        out = capsys.readouterr().out
        assert "last error 0 s ago: OperationalError: database is locked" in out
        assert out.rstrip().endswith("All is well.")


def test_an_old_report_says_the_bot_is_not_answering(live, capsys, monkeypatch):
    loops = health.Health()
    loops.loop("dispatcher", "the outbox's delivery", every=1.0).ok()
    with instance.acquire(live):
        report(live, loops, stopped=False)
        later = time.time() + 120
        monkeypatch.setattr(cli.time, "time", lambda: later)
        assert cli.main(["health"]) == 1
        out = capsys.readouterr().out
        assert "Its health report is 2 min old: the bot is not answering" in out
        assert "STUCK     the outbox's delivery: no round for 2 min" in out


def test_a_stopped_bot_is_not_running_and_says_how_it_stopped(live, capsys):
    loops = health.Health()
    report(live, loops, stopped=True)
    assert cli.main(["health"]) == 1
    out = capsys.readouterr().out
    assert f"Bot: not running on {live}." in out
    assert "(it stopped normally)" in out
    report(live, loops, stopped=False)  # a report left by a bot that was killed
    assert cli.main(["health"]) == 1
    assert "(it did not stop normally)" in capsys.readouterr().out
