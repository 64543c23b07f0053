"""Dialog state: one row per (channel, sender), so a dialog survives a restart."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.clock import iso
from storage.query import fetch_one, run


@dataclass(slots=True)
class DialogState:
    dialog: str
    step: str
    draft: dict = field(default_factory=dict)


async def load_dialog(
    conn: aiosqlite.Connection, channel: str, sender_id: str
) -> DialogState | None:
    row = await fetch_one(
        conn,
        "SELECT dialog, step, draft FROM dialogs WHERE channel = ? AND sender_id = ?",
        (channel, sender_id),
    )
    return DialogState(row[0], row[1], json.loads(row[2])) if row else None


async def save_dialog(
    conn: aiosqlite.Connection, channel: str, sender_id: str, state: DialogState, at: datetime,
    *, busy: bool | None = None,
) -> None:
    """Save the state; ``busy``: work is under way (a form half filled), so that what the
    bot sends on its own waits for it to end (default: any dialog but the last menu)."""
    busy = state.dialog != MENU if busy is None else busy
    await run(
        conn,
        "INSERT INTO dialogs (channel, sender_id, dialog, step, draft, updated_at, busy)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (channel, sender_id) DO UPDATE SET dialog = excluded.dialog,"
        " step = excluded.step, draft = excluded.draft, updated_at = excluded.updated_at,"
        " busy = excluded.busy",
        (channel, sender_id, state.dialog, state.step,
         json.dumps(state.draft, ensure_ascii=False, separators=(",", ":")), iso(at), int(busy)),
    )


async def clear_dialog(conn: aiosqlite.Connection, channel: str, sender_id: str) -> None:
    await run(
        conn,
        "DELETE FROM dialogs WHERE channel = ? AND sender_id = ?", (channel, sender_id)
    )


MENU = "menu"  # the pseudo-dialog that remembers the last menu shown (no dialog running)
# Set in a state's ``_ask`` when the reply that asked its question was not delivered.
UNDELIVERED = "undelivered"


def menu_state(options, free_input: bool, nonce: str = "") -> DialogState:
    """The state that lets a typed number or label choose from ``options`` (a menu);
    ``nonce`` names the reply that showed it (see :func:`mark_undelivered`)."""
    return DialogState(MENU, MENU, {"_ask": {
        "nonce": nonce, "free": free_input,
        "options": [[o.label, o.data, list(o.aliases)] for o in options]}})


async def mark_undelivered(conn: aiosqlite.Connection, channel: str, sender_id: str,
                           nonce: str) -> bool:
    """The reply that asked the question ``nonce`` (its state's ``_ask``) did not reach the
    person: their next typed answer is not taken for it. False, and nothing changes, when the
    dialog has moved on since (another question is waiting) or has ended."""
    row = await fetch_one(
        conn, "SELECT draft FROM dialogs WHERE channel = ? AND sender_id = ?",
        (channel, sender_id))
    draft = json.loads(row[0]) if row else {}
    ask = draft.get("_ask")
    if not nonce or not isinstance(ask, dict) or ask.get("nonce") != nonce:
        return False
    ask[UNDELIVERED] = True
    await run(
        conn, "UPDATE dialogs SET draft = ? WHERE channel = ? AND sender_id = ?",
        (json.dumps(draft, ensure_ascii=False, separators=(",", ":")), channel, sender_id))
    return True


async def remember_menu(conn: aiosqlite.Connection, channel: str, sender_id: str,
                        state: DialogState, at: datetime) -> None:
    """Remember a menu the bot sent on its own (a reminder's «Báo cáo ngay»), unless the
    person is in the middle of a dialog, which it must not interrupt."""
    await run(
        conn,
        "INSERT INTO dialogs (channel, sender_id, dialog, step, draft, updated_at, busy)"
        " VALUES (?, ?, ?, ?, ?, ?, 0)"
        " ON CONFLICT (channel, sender_id) DO UPDATE SET dialog = excluded.dialog,"
        " step = excluded.step, draft = excluded.draft, updated_at = excluded.updated_at,"
        " busy = 0 WHERE dialogs.dialog = ?",
        (channel, sender_id, state.dialog, state.step,
         json.dumps(state.draft, ensure_ascii=False, separators=(",", ":")), iso(at), MENU),
    )
