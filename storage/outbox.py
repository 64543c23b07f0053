"""The outbox: campaigns and the messages the bot sends on its own, one row per recipient.

A campaign is unique by its key (``remind:monthly_village:2026-10:village:-3@0``,
``announce:…``), a message unique per (campaign, person): planning the same event twice, or a
dispatcher that restarts in the middle of a broadcast, never sends anyone a message twice.

Life of a row: ``pending`` → ``sending`` (claimed by the dispatcher, committed before the send)
→ ``sent`` | ``failed`` (gave up) | ``skipped`` (no longer needed: the report came in) |
``unreachable`` (no messenger left: the person blocked the bot everywhere). A row found in
``sending`` at start-up was in flight when the process died; it goes back to ``pending``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from common.messages import Option, Outbound
from storage.clock import iso, parse_iso
from storage.query import fetch_all, fetch_one, run

OPEN_STATES = ("pending", "sending")
FINAL_STATES = ("sent", "failed", "skipped", "unreachable")


def encode_message(message: Outbound) -> str:
    """An Outbound as stored: its text and options (attachments are never queued)."""
    data = {"text": message.text, "options": [[o.label, o.data] for o in message.options]}
    if not message.free_input:  # a list to choose from (the key is absent in older rows)
        data["free_input"] = False
    return json.dumps(data, ensure_ascii=False)


def decode_message(text: str) -> Outbound:
    data = json.loads(text)
    return Outbound(data["text"], tuple(Option(label, value) for label, value in data["options"]),
                    free_input=data.get("free_input", True))


@dataclass(frozen=True, slots=True)
class Planned:
    """One message of a campaign to plan: to ``person_id``, about ``subject`` (or None).

    ``to`` pins it to one identity of the person, (channel, external id): it goes there or
    nowhere (a notice about another messenger), instead of to the one they used last.
    """

    person_id: int
    message: Outbound
    subject: dict | None = None
    to: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    campaign_id: int
    person_id: int
    message: Outbound
    subject: dict | None
    attempts: int
    kind: str
    to: tuple[str, str] | None = None  # pinned to this identity (channel, external id)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    key: str
    kind: str
    form: str | None
    period: str | None
    area_id: int | None
    requested_by: int | None
    title: str
    total: int
    created_at: datetime
    starts_at: datetime  # when its messages may first go out
    progress_at: datetime | None
    progress_seq: int
    done_at: datetime | None


_CAMPAIGN_COLUMNS = (
    "id, key, kind, form, period, area_id, requested_by, title, total, created_at,"
    " starts_at, progress_at, progress_seq, done_at"
)


def _campaign(row) -> Campaign:
    return Campaign(*row[:9], parse_iso(row[9]), parse_iso(row[10]),
                    row[11] and parse_iso(row[11]), row[12], row[13] and parse_iso(row[13]))


async def create_campaign(
    conn: aiosqlite.Connection,
    *,
    key: str,
    kind: str,
    messages: Sequence[Planned],
    not_before: datetime,
    at: datetime,
    form: str | None = None,
    period: str | None = None,
    area_id: int | None = None,
    requested_by: int | None = None,
    title: str = "",
    priority: int = 5,
) -> int | None:
    """Plan a campaign and its messages; None (and nothing written) if ``key`` exists.

    A person listed twice gets the first message only: one message per campaign and person.
    """
    row = await fetch_one(
        conn,
        "INSERT INTO campaigns (key, kind, form, period, area_id, requested_by, title, total,"
        " created_at, starts_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)"
        " ON CONFLICT (key) DO NOTHING RETURNING id",
        (key, kind, form, period, area_id, requested_by, title, iso(at), iso(not_before)),
    )
    if row is None:
        return None
    campaign_id = row[0]
    when, now = iso(not_before), iso(at)
    await conn.executemany(
        "INSERT INTO outbox (campaign_id, person_id, message, subject, priority, not_before,"
        " updated_at, to_channel, to_external_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (campaign_id, person_id) DO NOTHING",
        [(campaign_id, m.person_id, encode_message(m.message),
          json.dumps(m.subject) if m.subject else "", priority, when, now,
          *(m.to or (None, None))) for m in messages],
    )
    await run(conn, "UPDATE campaigns SET total = (SELECT count(*) FROM outbox"
              " WHERE campaign_id = ?) WHERE id = ?", (campaign_id, campaign_id))
    return campaign_id


async def revise_pending(conn: aiosqlite.Connection, key: str, person_id: int,
                         message: Outbound | None, at: datetime) -> bool:
    """Rewrite the message of campaign ``key`` to ``person_id`` while it has not gone out (a
    digest whose figures changed; one dropped before is queued again), or with None drop it
    (``skipped``: nothing left to say). False when there is no such message to change."""
    if message is None:
        changed = await run(
            conn,
            "UPDATE outbox SET state = 'skipped', last_error = 'nothing left to say',"
            " updated_at = ? WHERE person_id = ? AND state = 'pending' AND campaign_id ="
            " (SELECT id FROM campaigns WHERE key = ?)", (iso(at), person_id, key))
    else:  # a message dropped earlier comes back when there is something to say again
        changed = await run(
            conn,
            "UPDATE outbox SET message = ?, state = 'pending', last_error = NULL,"
            " updated_at = ? WHERE person_id = ? AND state IN ('pending', 'skipped')"
            " AND campaign_id = (SELECT id FROM campaigns WHERE key = ?)",
            (encode_message(message), iso(at), person_id, key))
        if changed:
            await run(conn, "UPDATE campaigns SET done_at = NULL WHERE key = ?", (key,))
    return changed > 0


async def campaign_by_key(conn: aiosqlite.Connection, key: str) -> Campaign | None:
    row = await fetch_one(conn, f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE key = ?",
                          (key,))
    return _campaign(row) if row else None


async def get_campaign(conn: aiosqlite.Connection, campaign_id: int) -> Campaign | None:
    row = await fetch_one(conn, f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?",
                          (campaign_id,))
    return _campaign(row) if row else None


async def recent_campaigns(conn: aiosqlite.Connection, limit: int = 20) -> list[Campaign]:
    rows = await fetch_all(
        conn, f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns ORDER BY id DESC LIMIT ?", (limit,))
    return [_campaign(r) for r in rows]


async def claim_due(conn: aiosqlite.Connection, now: datetime, limit: int
                    ) -> list[QueuedMessage]:
    """Mark up to ``limit`` due messages ``sending`` (highest priority, oldest first)."""
    rows = await fetch_all(
        conn,
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?"
        " WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND not_before <= ?"
        " ORDER BY priority, id LIMIT ?)"
        " RETURNING id, campaign_id, person_id, message, subject, attempts,"
        " (SELECT kind FROM campaigns c WHERE c.id = campaign_id), to_channel, to_external_id",
        (iso(now), iso(now), limit),
    )
    found = [QueuedMessage(r[0], r[1], r[2], decode_message(r[3]),
                           json.loads(r[4]) if r[4] else None, r[5], r[6],
                           (r[7], r[8]) if r[7] is not None else None) for r in rows]
    return sorted(found, key=lambda m: m.id)


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    """When the earliest pending message becomes due (None: nothing pending)."""
    row = await fetch_one(conn, "SELECT min(not_before) FROM outbox WHERE state = 'pending'")
    return parse_iso(row[0]) if row and row[0] else None


async def mark_sent(conn: aiosqlite.Connection, message_id: int, *, channel: str,
                    chat_id: str, at: datetime) -> None:
    await run(conn, "UPDATE outbox SET state = 'sent', channel = ?, chat_id = ?, sent_at = ?,"
              " updated_at = ?, last_error = NULL WHERE id = ?",
              (channel, chat_id, iso(at), iso(at), message_id))


async def mark_final(conn: aiosqlite.Connection, message_id: int, state: str, *,
                     at: datetime, error: str | None = None, channel: str | None = None,
                     chat_id: str | None = None) -> None:
    """End a message: ``failed``, ``skipped`` or ``unreachable`` (with why)."""
    if state not in FINAL_STATES:
        raise ValueError(f"not a final state: {state!r}")
    await run(conn, "UPDATE outbox SET state = ?, last_error = ?, updated_at = ?,"
              " channel = coalesce(?, channel), chat_id = coalesce(?, chat_id) WHERE id = ?",
              (state, error, iso(at), channel, chat_id, message_id))


async def mark_unreachable(conn: aiosqlite.Connection, message_id: int, *, at: datetime,
                           error: str, reasons: Sequence[str] | None) -> None:
    """No messenger reaches the person: ``unreachable``, with why (``reasons``, words like
    ``telegram:blocked``) kept until their officers are told (None: nobody is to be told)."""
    await run(conn, "UPDATE outbox SET state = 'unreachable', last_error = ?, updated_at = ?,"
              " untold_reasons = ? WHERE id = ?",
              (error, iso(at), " ".join(reasons) if reasons else None, message_id))


@dataclass(frozen=True, slots=True)
class Untold:
    """A person a campaign did not reach, whose officers have not been told yet."""

    id: int  # the outbox row
    campaign_id: int
    person_id: int
    reasons: tuple[str, ...]
    at: datetime  # when it was found unreachable
    requested_by: int | None  # who started the campaign (hears of it in its report)
    campaign_open: bool  # the campaign still has messages to send


async def untold_unreachable(conn: aiosqlite.Connection) -> list[Untold]:
    """Everyone found unreachable whose officers have not been told, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT o.id, o.campaign_id, o.person_id, o.untold_reasons, o.updated_at,"
        " c.requested_by, EXISTS (SELECT 1 FROM outbox x WHERE x.campaign_id = o.campaign_id"
        " AND x.state IN ('pending', 'sending'))"
        " FROM outbox o JOIN campaigns c ON c.id = o.campaign_id"
        " WHERE o.untold_reasons IS NOT NULL ORDER BY o.id")
    return [Untold(r[0], r[1], r[2], tuple(r[3].split()), parse_iso(r[4]), r[5], bool(r[6]))
            for r in rows]


async def mark_told(conn: aiosqlite.Connection, message_ids: Sequence[int]) -> None:
    """The officers of these unreachable people have been told (their alert is planned)."""
    await conn.executemany("UPDATE outbox SET untold_reasons = NULL WHERE id = ?",
                           [(i,) for i in message_ids])


async def blocked_channels(conn: aiosqlite.Connection, person_id: int) -> list[str]:
    """The messengers on which the person is marked as having blocked the bot."""
    rows = await fetch_all(conn, "SELECT DISTINCT channel FROM identities WHERE person_id = ?"
                           " AND blocked_at IS NOT NULL ORDER BY channel", (person_id,))
    return [r[0] for r in rows]


async def retry_later(conn: aiosqlite.Connection, message_id: int, *, not_before: datetime,
                      at: datetime, error: str, count_attempt: bool = True) -> None:
    """Put a message back in the queue until ``not_before``."""
    await run(conn, "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?,"
              " attempts = attempts - ?, updated_at = ? WHERE id = ?",
              (iso(not_before), error, 0 if count_attempt else 1, iso(at), message_id))


async def recover_in_flight(conn: aiosqlite.Connection, at: datetime) -> int:
    """Messages left ``sending`` by a process that died: back to ``pending``; how many."""
    return await run(conn, "UPDATE outbox SET state = 'pending', updated_at = ?"
                     " WHERE state = 'sending'", (iso(at),))


async def open_campaigns(conn: aiosqlite.Connection) -> list[Campaign]:
    rows = await fetch_all(conn, f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns"
                           " WHERE done_at IS NULL ORDER BY id")
    return [_campaign(r) for r in rows]


async def campaign_counts(conn: aiosqlite.Connection, campaign_id: int) -> dict[str, int]:
    """Messages of a campaign by state (every state present, 0 when none)."""
    rows = await fetch_all(conn, "SELECT state, count(*) FROM outbox WHERE campaign_id = ?"
                           " GROUP BY state", (campaign_id,))
    counts = dict.fromkeys((*OPEN_STATES, *FINAL_STATES), 0)
    counts.update({r[0]: r[1] for r in rows})
    return counts


async def unreachable_names(conn: aiosqlite.Connection, campaign_id: int) -> list[str]:
    """Everyone a campaign did not reach (all of them: the one who sent it must call them)."""
    rows = await fetch_all(
        conn,
        "SELECT p.full_name FROM outbox o JOIN people p ON p.id = o.person_id"
        " WHERE o.campaign_id = ? AND o.state IN ('unreachable', 'failed')"
        " ORDER BY p.full_name", (campaign_id,))
    return [r[0] for r in rows]


async def note_progress(conn: aiosqlite.Connection, campaign_id: int, at: datetime,
                        done: bool) -> int:
    """Record that progress was reported; the report's sequence number."""
    (seq,) = await fetch_one(
        conn, "UPDATE campaigns SET progress_at = ?, progress_seq = progress_seq + 1,"
        " done_at = CASE WHEN ? THEN ? ELSE done_at END WHERE id = ? RETURNING progress_seq",
        (iso(at), int(done), iso(at), campaign_id))
    return seq


async def close_finished(conn: aiosqlite.Connection, at: datetime) -> int:
    """Mark done every campaign (without a requester waiting for a report) left with nothing
    to send; how many."""
    return await run(
        conn,
        "UPDATE campaigns SET done_at = ? WHERE done_at IS NULL AND requested_by IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = campaigns.id"
        " AND o.state IN ('pending', 'sending'))", (iso(at),))


async def recent_reminders(conn: aiosqlite.Connection, form: str, period: str,
                           person_ids: Iterable[int], since: datetime
                           ) -> dict[int, tuple[datetime, str | None]]:
    """Who among ``person_ids`` was reminded of the report ``form``/``period`` at or after
    ``since`` (by the calendar or by an officer; sent, or waiting to go): person id → (when,
    the name of the officer who asked, None for the calendar), the latest reminder each."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    rows = await fetch_all(
        conn,
        "SELECT o.person_id, coalesce(o.sent_at, c.created_at) AS at, p.full_name"
        " FROM campaigns c JOIN outbox o ON o.campaign_id = c.id"
        " LEFT JOIN people p ON p.id = c.requested_by"
        " WHERE c.form = ? AND c.period = ? AND c.kind IN ('remind', 'remind_again')"
        " AND o.state IN ('pending', 'sending', 'sent')"
        f" AND o.person_id IN ({','.join('?' * len(ids))})"
        " AND coalesce(o.sent_at, c.created_at) >= ? ORDER BY at",
        (form, period, *ids, iso(since)))
    return {r[0]: (parse_iso(r[1]), r[2]) for r in rows}


# ---- recipients ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    channel: str
    external_id: str
    chat_id: str
    dialog_at: datetime | None = None  # the last answer of a dialog under way there


# Why a message waits (``last_error``) while its recipient is in the middle of a dialog.
HELD = "held: the person is in the middle of a dialog"


async def reachable_identities(conn: aiosqlite.Connection, person_id: int,
                               prefer: str = "last_used") -> list[Address]:
    """Where the person can get a message, best first: the messengers they have not blocked,
    the one they used last first unless ``prefer`` names a channel; with when they last
    answered a dialog with work under way on each (``dialogs.busy``: a form half filled, not
    a list or a card)."""
    rows = await fetch_all(
        conn,
        "SELECT i.channel, i.external_id, i.chat_id, d.updated_at FROM identities i"
        " JOIN people p ON p.id = i.person_id"
        " LEFT JOIN dialogs d ON d.channel = i.channel AND d.sender_id = i.external_id"
        " AND d.busy = 1"
        " WHERE i.person_id = ? AND i.blocked_at IS NULL AND p.active = 1"
        " ORDER BY CASE WHEN i.channel = ? THEN 0 ELSE 1 END, i.last_seen_at DESC",
        (person_id, prefer))
    return [Address(r[0], r[1], r[2], parse_iso(r[3]) if r[3] else None) for r in rows]


async def hold(conn: aiosqlite.Connection, message_id: int, *, until: datetime,
               at: datetime) -> None:
    """The recipient is in the middle of a dialog: the message waits until it ends (see
    :func:`release_held`), and at most until ``until``, when the dialog counts as left."""
    await run(conn, "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?,"
              " attempts = attempts - 1, updated_at = ? WHERE id = ?",
              (iso(until), HELD, iso(at), message_id))


async def release_held(conn: aiosqlite.Connection, person_id: int, *, not_before: datetime,
                       at: datetime) -> int:
    """The person's dialog ended: what waited for it may go from ``not_before``; how many."""
    return await run(conn, "UPDATE outbox SET not_before = ?, updated_at = ?"
                     " WHERE state = 'pending' AND person_id = ? AND last_error = ?"
                     " AND not_before > ?",
                     (iso(not_before), iso(at), person_id, HELD, iso(not_before)))


async def mark_blocked(conn: aiosqlite.Connection, channel: str, external_id: str,
                       at: datetime) -> None:
    await run(conn, "UPDATE identities SET blocked_at = ? WHERE channel = ? AND external_id = ?",
              (iso(at), channel, external_id))


async def clear_blocked(conn: aiosqlite.Connection, channel: str, external_id: str) -> int:
    """The person wrote again: they have unblocked the bot on this messenger."""
    return await run(conn, "UPDATE identities SET blocked_at = NULL WHERE channel = ?"
                     " AND external_id = ? AND blocked_at IS NOT NULL", (channel, external_id))


async def outbox_rows(conn: aiosqlite.Connection, campaign_id: int | None = None
                      ) -> Iterable:
    """Every message (of a campaign), for the admin command line and the tests."""
    sql = ("SELECT o.id, c.key, o.person_id, p.full_name, o.state, o.attempts, o.channel,"
           " o.chat_id, o.not_before, o.sent_at, o.last_error, o.message FROM outbox o"
           " JOIN campaigns c ON c.id = o.campaign_id JOIN people p ON p.id = o.person_id")
    if campaign_id is not None:
        return await fetch_all(conn, sql + " WHERE o.campaign_id = ? ORDER BY o.id",
                               (campaign_id,))
    return await fetch_all(conn, sql + " ORDER BY o.id")
