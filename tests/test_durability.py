"""What Zalo is told is received is on the disk (issue 12, item 4): with ``synchronous =
NORMAL`` a WAL commit reaches the disk only at the next checkpoint, so a power cut could lose
an event Zalo believes delivered. The inbox's transaction syncs at its commit (FULL), the
others keep the configured level. (The real process, killed right after a 200, processes the
event at its next start: ``tests/test_process.py``.)
"""

from __future__ import annotations

import pytest

from bot.channels.zalo import ZaloChannel
from handlers.core import Core
from storage.db import Database
from tests.fake_zalo_api import text_event
from tests.test_zalo import api, ms, on_zalo, zalo_config  # noqa: F401  (fixtures)


async def synchronous(conn) -> int:
    async with conn.execute("PRAGMA synchronous") as cursor:
        return (await cursor.fetchone())[0]


async def test_a_durable_transaction_syncs_at_its_commit_and_only_it(tmp_path):
    db = await Database.open(tmp_path / "d.sqlite3", synchronous="NORMAL")
    try:
        async with db.write(durable=True) as conn:
            assert await synchronous(conn) == 2  # FULL
        async with db.write() as conn:
            assert await synchronous(conn) == 1  # NORMAL again
        with pytest.raises(RuntimeError):
            async with db.write(durable=True) as conn:
                raise RuntimeError("rolled back")
        async with db.write() as conn:
            assert await synchronous(conn) == 1
    finally:
        await db.close()


async def test_a_durable_transaction_keeps_a_stricter_setting(tmp_path):
    db = await Database.open(tmp_path / "e.sqlite3", synchronous="EXTRA")
    try:
        async with db.write(durable=True) as conn:
            assert await synchronous(conn) == 3
        async with db.write() as conn:
            assert await synchronous(conn) == 3
    finally:
        await db.close()


async def test_the_webhook_answers_200_only_once_the_event_is_synced(
        zalo_config, db, world, clock, api):  # noqa: F811
    await on_zalo(db, clock, world.head_id, "z100")
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    statements: list[str] = []
    db._writer._conn.set_trace_callback(statements.append)  # what the write connection runs
    try:
        status, _ = await api.post_webhook(text_event("/toi", user_id="z100", date_ms=ms(clock)))
        await zalo.drain()
    finally:
        db._writer._conn.set_trace_callback(None)
        await zalo.stop()
        core.close()
    assert status == 200
    stored = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO inbox"))
    level = [s for s in statements[:stored] if s.startswith("PRAGMA synchronous")][-1]
    assert level == "PRAGMA synchronous=FULL"
    committed = next(i for i in range(stored, len(statements)) if statements[i] == "COMMIT")
    assert statements[committed + 1] == "PRAGMA synchronous=NORMAL"  # for the others
    processed = next(i for i, s in enumerate(statements) if s.startswith("DELETE FROM inbox"))
    assert [s for s in statements[committed:processed]
            if s.startswith("PRAGMA synchronous")] == ["PRAGMA synchronous=NORMAL"]
