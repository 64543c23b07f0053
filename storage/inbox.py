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


async def store(conn: aiosqlite.Connection, channel: str, rows: Iterable[tuple[str, str, str]],
                at: datetime) -> list[str]:
    """Store ``(message_id, chat_id, payload)`` rows; return the ids that are new (neither
    waiting nor processed within the redelivery window)."""
    new = []
    for message_id, chat_id, payload in rows:
        inserted = await run(
            conn,
            "INSERT INTO inbox (channel, message_id, chat_id, payload, received_at)"
            " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM inbound_seen"
            " WHERE channel = ? AND message_id = ?)"
            " ON CONFLICT (channel, message_id) DO NOTHING",
            (channel, message_id, chat_id, payload, iso(at), channel, message_id))
        if inserted == 1:
            new.append(message_id)
    return new


async def settle(conn: aiosqlite.Connection, channel: str, message_id: str) -> None:
    """The message is processed (call it in the transaction that processes it)."""
    await run(conn, "DELETE FROM inbox WHERE channel = ? AND message_id = ?",
              (channel, message_id))


async def waiting(conn: aiosqlite.Connection, channel: str) -> list[tuple[str, str, str]]:
    """``(message_id, chat_id, payload)`` of every stored, unprocessed message, oldest first."""
    rows = await fetch_all(
        conn, "SELECT message_id, chat_id, payload FROM inbox WHERE channel = ?"
        " ORDER BY received_at, rowid", (channel,))
    return [tuple(r) for r in rows]
