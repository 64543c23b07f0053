"""Messages a channel has accepted but not yet processed.

The Zalo webhook answers Zalo only once the event is stored here, so an event Zalo has handed
over survives a crash; the transaction that processes the message removes its row
(:func:`settle`), together with the core's own record of the message id. A message stored
twice (Zalo retries a webhook it thinks failed) or already processed is recognised by its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.query import fetch_all, run

_CHUNK = 200  # rows per statement (SQLite allows 32,766 parameters)


async def store(conn: aiosqlite.Connection, channel: str, rows: Iterable[tuple[str, str, str]],
                at: datetime) -> list[str]:
    """Store ``(message_id, chat_id, payload)`` rows; return the ids that are new (neither
    waiting nor processed within the redelivery window). One statement for all the rows."""
    rows = list(rows)
    new: list[str] = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start:start + _CHUNK]
        values = ", ".join("(?, ?, ?)" for _ in chunk)
        args: list[object] = [value for row in chunk for value in row]
        found = await fetch_all(
            conn,
            "INSERT INTO inbox (channel, message_id, chat_id, payload, received_at)"
            f" SELECT ?, v.column1, v.column2, v.column3, ? FROM (VALUES {values}) AS v"
            " WHERE NOT EXISTS (SELECT 1 FROM inbound_seen s"
            " WHERE s.channel = ? AND s.message_id = v.column1)"
            " ON CONFLICT (channel, message_id) DO NOTHING RETURNING message_id",
            [channel, iso(at), *args, channel])
        new += [r[0] for r in found]
    return new


def settle_statement(channel: str, message_id: str) -> tuple[str, tuple]:
    """The statement that marks the message processed, for the transaction that processes
    it (``Core.handle(settle=…)``)."""
    return "DELETE FROM inbox WHERE channel = ? AND message_id = ?", (channel, message_id)


async def settle(conn: aiosqlite.Connection, channel: str, message_id: str) -> None:
    """The message is processed (call it in the transaction that processes it)."""
    await run(conn, *settle_statement(channel, message_id))


async def waiting(conn: aiosqlite.Connection, channel: str) -> list[tuple[str, str, str]]:
    """``(message_id, chat_id, payload)`` of every stored, unprocessed message, oldest first."""
    rows = await fetch_all(
        conn, "SELECT message_id, chat_id, payload FROM inbox WHERE channel = ?"
        " ORDER BY received_at, rowid", (channel,))
    return [tuple(r) for r in rows]
