"""``/lienket``: one person on two messengers (Telegram and Zalo), joined by a one-time code.

Steps, one message each:

* ``/lienket`` from an enrolled person → a linking code (``link.code_ttl_minutes``; a new
  code cancels the previous one) and how to use it;
* the code sent from another identity — typed alone, ``/start CODE`` or ``/lienket CODE`` →
  that identity becomes the same person (a new ``identities`` row, audited), the code is used
  up, the new messenger gets a welcome and every other messenger of the person a notice
  through the outbox, pinned to it, so that a stolen code does not go unnoticed;
* ``/lienket huy`` → a choice of the person's *other* messengers to remove (the one in use
  is never offered, so the last identity can never be removed).

Codes vs invite codes: both use the invite alphabet (no I, L, O, 0, 1), but a linking code
has nine characters in three groups (``ABC-DEF-GHJ``) and an invite ten (or eight) in two
(``ABCDE-23456``), so the shape alone says which one was typed (``handlers/router.py``); no
lookup of one kind is ever spent on the other. 31⁹ ≈ 2.6·10¹³ codes, alive for minutes, and
``link.max_wrong_codes`` wrong codes per identity and window make guessing hopeless.

Refused, with nothing changed: a wrong, expired, used or replaced code; an identity that
already belongs to *another* person (no silent takeover: that person must be removed by an
operator first); the very identity the code was issued to. A second account on the *same*
messenger (a second Telegram account, a new phone) is allowed: it is another identity like a
Zalo one, and reminders go to whichever the person used last.
"""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.text import squash
from handlers import menu
from handlers.menu import channel_name, identity_label
from handlers.router import INVITE_ALPHABET, looks_like_link_code, match
from storage import links, people
from storage.audit import Actor
from storage.dialogs import DialogState
from storage.outbox import Planned, create_campaign

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
CODE_LENGTH = 9
UNLINK_WORDS = ("huy", "go", "gobo", "xoa", "bo")


def new_code() -> str:
    """A random code (upper case, no dashes) that no way of typing makes a command."""
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(CODE_LENGTH))
        groups = (code[:3], code[3:6], code[6:])
        if not any(match(text) for text in (code, " ".join(groups), "-".join(groups))):
            return code


def show_code(code: str) -> str:
    """``ABCDEFGHJ`` → ``ABC-DEF-GHJ``, as people read it."""
    return f"{code[:3]}-{code[3:6]}-{code[6:]}"


async def start(ctx: Context, args: str) -> Result:
    """``/lienket`` (a code), ``/lienket CODE`` (use one), ``/lienket huy`` (remove one)."""
    if squash(args) in UNLINK_WORDS:
        return await _start_unlink(ctx)
    if args.strip():
        return None, await use(ctx, args)
    return None, await issue(ctx)


async def issue(ctx: Context) -> list[Outbound]:
    """Gives the person a new linking code, cancelling their previous one."""
    minutes = ctx.config.link.code_ttl_minutes
    code = new_code()
    await links.issue_code(
        ctx.conn, code=code, person_id=ctx.person.id, channel=ctx.inbound.channel,
        external_id=ctx.inbound.sender_id, expires_at=ctx.now + timedelta(minutes=minutes),
        actor=ctx.actor, at=ctx.now)
    return [Outbound(t("link.issued", code=show_code(code), minutes=minutes))]


async def use(ctx: Context, raw_code: str) -> list[Outbound]:
    """Links this identity to the person who asked for the code, or says why not."""
    cfg = ctx.config.link
    inbound = ctx.inbound
    key = (inbound.channel, inbound.sender_id)
    window = timedelta(minutes=cfg.wrong_codes_window_minutes)
    wrong = await links.wrong_codes_since(ctx.conn, *key, ctx.now - window)
    if len(wrong) >= cfg.max_wrong_codes:
        return [_locked(ctx, wrong)]
    code = looks_like_link_code(raw_code)
    found = await links.find_code(ctx.conn, code) if code else None
    if found is None:
        if code is None:
            return [Outbound(t("link.invalid"))]
        await links.note_wrong_code(ctx.conn, *key, ctx.now, forget_before=ctx.now - window)
        if len(wrong) + 1 >= cfg.max_wrong_codes:
            return [_locked(ctx, [*wrong, ctx.now])]
        return [Outbound(t("link.invalid"))]
    if found.used_at is not None:
        return [Outbound(t("link.used"))]
    if found.revoked_at is not None:
        return [Outbound(t("link.replaced"))]
    if found.expires_at <= ctx.now:
        return [Outbound(t("link.expired"))]
    if (found.channel, found.external_id) == key:
        return [Outbound(t("link.same_account"))]
    person = await people.get_person(ctx.conn, found.person_id)
    if person is None or not person.active or not person.roles:
        return [Outbound(t("link.expired"))]
    owner = await people.person_by_identity(ctx.conn, *key)
    if owner is not None and owner.id != person.id:
        return [Outbound(t("link.other_person"))]
    actor = Actor(person.id, f"{inbound.channel}:{inbound.sender_id}")
    if owner is not None:  # linked already: the code is spent, so nobody else can use it
        await links.claim_code(ctx.conn, found.id, channel=inbound.channel,
                               external_id=inbound.sender_id, actor=actor, at=ctx.now)
        return [Outbound(t("link.already"))]
    if not await links.claim_code(ctx.conn, found.id, channel=inbound.channel,
                                  external_id=inbound.sender_id, actor=actor, at=ctx.now):
        return [Outbound(t("link.used"))]
    others = await people.identities_of(ctx.conn, person.id)
    await people.link_identity(
        ctx.conn, person.id, channel=inbound.channel, external_id=inbound.sender_id,
        chat_id=inbound.chat_id, display_name=inbound.display_name, actor=actor, at=ctx.now)
    await _notify_others(ctx, found.id, person.id, others)
    ctx.person = person
    welcome = t("link.welcome", name=person.full_name, channel=channel_name(inbound.channel),
                others=", ".join(identity_label(i) for i in others))
    return [menu.main_menu(ctx, welcome)]


def _locked(ctx: Context, wrong: list) -> Outbound:
    """Too many wrong codes: refused until the oldest that still counts leaves the window."""
    cfg = ctx.config.link
    until = wrong[len(wrong) - cfg.max_wrong_codes] + timedelta(
        minutes=cfg.wrong_codes_window_minutes)
    minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
    return Outbound(t("link.locked", minutes=minutes))


async def _notify_others(ctx: Context, code_id: int, person_id: int,
                         others: list[dict]) -> None:
    """Plans "this account was linked to you" for each of the person's other messengers."""
    inbound = ctx.inbound
    local = ctx.now.astimezone(ctx.config.timezone)
    text = t("link.notice", account=identity_label(
        {"channel": inbound.channel, "display_name": inbound.display_name}),
        at=f"{local:%H:%M %d/%m/%Y}")
    for identity in others:
        to = (identity["channel"], identity["external_id"])
        await create_campaign(
            ctx.conn, key=f"link:{code_id}:{to[0]}:{to[1]}", kind="link",
            messages=[Planned(person_id, Outbound(text), to=to)],
            not_before=ctx.config.calendar.next_sending_time(local), at=ctx.now, priority=0)


# ---- /lienket huy: remove one of the person's other messengers ----------------------------


async def _start_unlink(ctx: Context) -> Result:
    current = (ctx.inbound.channel, ctx.inbound.sender_id)
    choices = [[i["channel"], i["external_id"], identity_label(i)]
               for i in await people.identities_of(ctx.conn, ctx.person.id)
               if (i["channel"], i["external_id"]) != current]
    if not choices:
        return None, [Outbound(t("link.unlink_none"))]
    state = DialogState("link", "unlink", {"choices": choices})
    return state, await ask(ctx, state)


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """Asks which messenger to remove."""
    options = [Option(label, f"unlink:{n}") for n, (_, _, label)
               in enumerate(state.draft["choices"])]
    options.append(Option(t("form.option.cancel"), "cancel", ("huy",)))
    return [Outbound(t("link.unlink_pick"), tuple(options), free_input=False)]


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Removes the chosen messenger from the person."""
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    choices = state.draft["choices"]
    index = int(reply.action[7:]) if (reply.action or "").startswith("unlink:") else -1
    if not 0 <= index < len(choices):
        return state, [Outbound(t("link.unlink_expected"))] + await ask(ctx, state)
    channel, external_id, label = choices[index]
    removed = await links.unlink_identity(ctx.conn, ctx.person.id, channel, external_id,
                                          actor=ctx.actor, at=ctx.now)
    if removed:
        ctx.forget.append((channel, external_id))
    key = "link.unlinked" if removed else "link.unlink_gone"
    return None, [menu.main_menu(ctx, t(key, account=label))]
