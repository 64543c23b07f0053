"""Inbound de-duplication: a redelivered message (same channel and id) changes nothing."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.query import run

_FIRST = ("INSERT INTO inbound_seen (channel, message_id, received_at) VALUES (?, ?, ?)"
          " ON CONFLICT (channel, message_id) DO NOTHING")


def first_delivery_statement(channel: str, message_id: str, at: datetime
                             ) -> tuple[str, tuple]:
    """:func:`first_delivery` as a statement for ``Database.write_opening``: it changes one
    row the first time the message is seen, none on a redelivery."""
    return _FIRST, (channel, message_id, iso(at))


async def first_delivery(
    conn: aiosqlite.Connection, channel: str, message_id: str, at: datetime
) -> bool:
    """Record the message id; True the first time it is seen, False on a redelivery.

    Call it inside the transaction that processes the message: if processing fails, the
    record rolls back with it and a redelivery is processed again.
    """
    inserted = await run(conn, *first_delivery_statement(channel, message_id, at))
    return inserted == 1


async def forget_before(conn: aiosqlite.Connection, before: datetime) -> int:
    return await run(conn, "DELETE FROM inbound_seen WHERE received_at < ?", (iso(before),))
