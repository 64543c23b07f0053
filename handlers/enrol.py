"""Enrolment by one-time invite code: ``/start CODE`` or the code typed alone.

The person is saved under the name the invite gives, else the name their messenger shows;
when there is neither (the console, an account without a name), the bot asks for it first
(a stranger's dialog, ``ENROL``) and uses the code only once it has one: nothing is saved
under a placeholder, and giving up leaves the code unused.

**A second role is never silent.** Someone who already holds a role and sends a code is
asked first (``GRANT``: «Nhận thêm quyền Cán bộ — Xã Bum Nưa?», yes or no) and sees nothing
of the new area before saying yes; then the admins over that area and the person who made
the invite (when a person made it, not the command line) are told through the outbox. A no
leaves the code unused, for the person it was made for.

**Guessing is throttled** (``[invites]`` in config.toml), before a code is even looked up,
so that a throttled account learns nothing, not even from a right code:

* per messenger account: ``max_wrong_codes`` (5) wrong codes within
  ``wrong_codes_window_minutes`` (10), then «đợi N phút»;
* over all accounts: ``max_wrong_codes_per_minute`` (20); past it, accounts that sent a
  wrong code in the last day wait for the next minute («hệ thống tạm dừng»), while an account's
  first code of the day is always read, so the person a code was made for gets in even
  during an attack (and an attacker gains one try a day per account they own).

What that makes of a guess (README, "Invite codes and guessing"): with 3,000 unused codes,
eight characters of 31 (31⁸ ≈ 8.5·10¹¹, the codes made before issue 12) take about 2.8·10⁸
guesses for the first hit; throttled, a whole botnet gets 20 a minute (28,800 a day) plus one
a day per account it owns — with 1,000 accounts ≈ 29,800 a day, ≈ 9,500 days (26 years),
against about a week unthrottled (27,234 a minute from 50 accounts). New codes have ten
characters (31¹⁰ ≈ 8.2·10¹⁴): ≈ 2.7·10¹¹ guesses, ≈ 25,000 years; and a code lives only
``ttl_days`` (14 days).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.text import NO_WORDS, YES_WORDS, fold, plain
from handlers import menu
from handlers.router import match, show_invite
from storage import areas, invites, people
from storage.dialogs import DialogState, clear_dialog, save_dialog
from storage.outbox import Planned, create_campaign
from storage.progress import holders_at

if TYPE_CHECKING:
    from handlers.context import Answer, Context


ENROL = "enrol"  # a stranger's dialog: their name, asked before the invite is used
GRANT_DIALOG = "grant"  # someone with a role confirms another (``GRANT``)
FIRST_TRY_DAY = timedelta(days=1)  # an account's first wrong code of a day is not capped
NOTICE_PRIORITY = 0  # as linking notices: a change of rights is told before anything else
NAME_LENGTH = (2, 80)


def display_name(text: str) -> str | None:
    """The name a messenger shows for the account, as it is (spaces tidied), or None when
    it names nobody (empty, no letter, too long)."""
    name = " ".join(text.split())
    if not any(ch.isalpha() for ch in name) or len(name) > NAME_LENGTH[1]:
        return None
    return name


def person_name(text: str) -> str | None:
    """A full name as typed, tidied (``lường thị  mai`` → ``Lường Thị Mai``), or None when
    the text cannot be one (digits, a command, no letters, too short or long)."""
    words = text.split()
    name = " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words)
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1] or name.startswith("/"):
        return None
    if any(ch.isdigit() for ch in name) or not any(ch.isalpha() for ch in name):
        return None
    return None if match(name) is not None else name


def normalise_code(text: str) -> str:
    return fold(text).replace("-", "").replace(" ", "").upper()[:32]


async def _throttled(ctx: Context) -> tuple[Outbound | None, list]:
    """Why this account's code is not looked up now (module doc), else None; and when it
    sent wrong codes in the last day."""
    cfg = ctx.config.invites
    inbound = ctx.inbound
    tried = await invites.wrong_invites_since(ctx.conn, inbound.channel, inbound.sender_id,
                                              ctx.now - FIRST_TRY_DAY)
    window = timedelta(minutes=cfg.wrong_codes_window_minutes)
    recent = [at for at in tried if at >= ctx.now - window]
    if len(recent) >= cfg.max_wrong_codes:
        return _locked(ctx, recent), tried
    if tried and await invites.wrong_invites_overall(
            ctx.conn, ctx.now - timedelta(minutes=1)) >= cfg.max_wrong_codes_per_minute:
        return Outbound(t("enrol.throttled_everyone")), tried
    return None, tried


def _locked(ctx: Context, recent: list) -> Outbound:
    """Too many wrong codes from this account: refused until the oldest that still counts
    leaves the window."""
    cfg = ctx.config.invites
    until = recent[len(recent) - cfg.max_wrong_codes] + timedelta(
        minutes=cfg.wrong_codes_window_minutes)
    minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
    return Outbound(t("enrol.locked", tries=len(recent), minutes=minutes,
                      window=cfg.wrong_codes_window_minutes))


async def _wrong(ctx: Context, tried: list) -> list[Outbound]:
    """Remember a wrong code; say so, and when it was the last one allowed, for how long."""
    cfg = ctx.config.invites
    inbound = ctx.inbound
    window = timedelta(minutes=cfg.wrong_codes_window_minutes)
    await invites.note_wrong_invite(ctx.conn, inbound.channel, inbound.sender_id, ctx.now,
                                    forget_before=ctx.now - max(window, FIRST_TRY_DAY))
    recent = [at for at in tried if at >= ctx.now - window] + [ctx.now]
    if len(recent) >= cfg.max_wrong_codes:
        return [_locked(ctx, recent)]
    return [Outbound(t("enrol.invalid"))]


async def start(ctx: Context, raw_code: str) -> tuple[DialogState | None, list[Outbound]]:
    """A code sent: ``enrol``, or for someone who holds a role already the question whether
    to add the invite's (``GRANT``, the dialog state returned for the core to save)."""
    asked: list[DialogState] = []
    messages = await enrol(ctx, raw_code, asked=asked)
    return (asked[0] if asked else None), messages


async def enrol(ctx: Context, raw_code: str, name: str | None = None, *,
                asked: list | None = None) -> list[Outbound]:
    """Use the invite: create the person (or add the role to them, once they confirm: the
    question's state is put in ``asked``) and link this chat; ``name``, the one a stranger
    gave when asked (see ``answer_name``)."""
    code = normalise_code(raw_code)
    refused, tried = await _throttled(ctx)
    if refused is not None:
        return [refused]
    invite = await invites.get_invite(ctx.conn, code) if code else None
    if invite is None:
        return await _wrong(ctx, tried)
    if invite.used_at is not None:
        return [Outbound(t("enrol.used"))]
    if invite.expires_at <= ctx.now:
        return [Outbound(t("enrol.expired"))]
    area = await areas.get_area(ctx.conn, invite.area_id)
    inbound = ctx.inbound
    if ctx.person is not None and ctx.person.roles:  # a second role: asked first (module doc)
        if any(r.role == invite.role and r.area.id == area.id for r in ctx.person.roles):
            return [menu.main_menu(ctx, t("enrol.has_role", role=menu.role_label(
                ctx, invite.role, area)))]
        state = DialogState(GRANT_DIALOG, "confirm", {"code": code})
        if asked is None:  # only ever called so for strangers (``answer_name``)
            return [Outbound(t("enrol.used"))]
        asked.append(state)
        return (await _ask_grant(ctx, state, invite, area))[1]
    person_id = ctx.person.id if ctx.person else None
    if person_id is None:
        existing = await people.person_by_identity(ctx.conn, inbound.channel, inbound.sender_id)
        person_id = existing.id if existing else None
    actor = ctx.actor
    if person_id is None:
        name = name or invite.full_name or display_name(inbound.display_name or "")
        if not name:
            await save_dialog(ctx.conn, inbound.channel, inbound.sender_id,
                              DialogState(ENROL, "name", {"code": code}), ctx.now)
            return [Outbound(t("enrol.ask_name",
                               role=menu.role_label(ctx, invite.role, area)))]
        person_id = await people.create_person(ctx.conn, name, actor=actor, at=ctx.now)
        await people.link_identity(
            ctx.conn, person_id, channel=inbound.channel, external_id=inbound.sender_id,
            chat_id=inbound.chat_id, display_name=inbound.display_name, actor=actor, at=ctx.now,
        )
    if not await invites.claim_invite(ctx.conn, code, person_id, actor=actor, at=ctx.now):
        return [Outbound(t("enrol.used"))]
    await people.grant_role(ctx.conn, person_id, invite.role, area, actor=actor, at=ctx.now)
    ctx.person = await people.get_person(ctx.conn, person_id)
    welcome = t("enrol.welcome", name=ctx.person.full_name,
                role=menu.role_label(ctx, invite.role, area))
    return [menu.main_menu(ctx, welcome)]


# ---- a second role: asked, then told to the admins and the inviter -----------------------


async def _ask_grant(ctx: Context, state: DialogState, invite, area) -> tuple:
    held = "\n".join(menu.role_label(ctx, r.role, r.area) for r in ctx.person.roles)
    question = Outbound(t("enrol.confirm_role", held=held,
                          role=menu.role_label(ctx, invite.role, area)),
                        (Option(t("enrol.option.accept"), "yes", ("co", "dong y", "nhan")),
                         Option(t("enrol.option.decline"), "no", ("khong", "khong nhan"))),
                        free_input=False)
    return state, [question]


async def _grant_ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The question again (after a command in the middle, or an answer it cannot read)."""
    invite = await invites.get_invite(ctx.conn, state.draft["code"])
    area = await areas.get_area(ctx.conn, invite.area_id) if invite else None
    if invite is None or area is None:
        return [Outbound(t("enrol.used"))]
    return (await _ask_grant(ctx, state, invite, area))[1]


async def _grant_answer(ctx: Context, state: DialogState, reply: Answer) -> tuple:
    """Yes: the role is added (if the code is still good) and the admins and the inviter are
    told; no: nothing changes and the code stays unused."""
    typed = plain(reply.text)
    yes = reply.action == "yes" or (reply.action is None and typed in YES_WORDS)
    no = reply.action in ("no", "cancel") or (reply.action is None and typed in NO_WORDS)
    if not (yes or no):
        return state, [Outbound(t("enrol.confirm_expected"))] + await _grant_ask(ctx, state)
    if no:
        return None, [menu.main_menu(ctx, t("enrol.declined"))]
    code = state.draft["code"]
    invite = await invites.get_invite(ctx.conn, code)
    if invite is None or invite.used_at is not None:
        return None, [menu.main_menu(ctx, t("enrol.used"))]
    if invite.expires_at <= ctx.now:
        return None, [menu.main_menu(ctx, t("enrol.expired"))]
    area = await areas.get_area(ctx.conn, invite.area_id)
    held = [menu.role_label(ctx, r.role, r.area) for r in ctx.person.roles]
    if not await invites.claim_invite(ctx.conn, code, ctx.person.id, actor=ctx.actor,
                                      at=ctx.now):
        return None, [menu.main_menu(ctx, t("enrol.used"))]
    await people.grant_role(ctx.conn, ctx.person.id, invite.role, area, actor=ctx.actor,
                            at=ctx.now)
    await _tell_about_grant(ctx, invite, area, held)
    ctx.person = await people.get_person(ctx.conn, ctx.person.id)
    welcome = t("enrol.role_added", role=menu.role_label(ctx, invite.role, area))
    return None, [menu.main_menu(ctx, welcome)]


async def _tell_about_grant(ctx: Context, invite, area, held: list[str]) -> None:
    """Plan «X, who was …, now also holds …» for the admins over ``area`` and the person
    who made the invite (never the person themselves)."""
    path = [int(x) for x in area.path.strip("/").split("/")]
    told = {h.person_id for h in await holders_at(ctx.conn, ("admin",), path)}
    channel, _, external_id = invite.created_by.partition(":")
    if external_id and channel != "cli":
        inviter = await people.person_by_identity(ctx.conn, channel, external_id)
        if inviter is not None:
            told.add(inviter.id)
    told.discard(ctx.person.id)
    if not told:
        return
    text = t("enrol.notice_second_role", name=ctx.person.full_name,
             account=menu.identity_label({"channel": ctx.inbound.channel,
                                          "display_name": ctx.inbound.display_name}),
             held="\n".join(held), role=menu.role_label(ctx, invite.role, area),
             code=show_invite(invite.code))
    local = ctx.now.astimezone(ctx.config.timezone)
    await create_campaign(
        ctx.conn, key=f"invite-grant:{invite.code}", kind="grant",
        messages=[Planned(person_id, Outbound(text)) for person_id in sorted(told)],
        not_before=ctx.config.calendar.next_sending_time(local), at=ctx.now,
        priority=NOTICE_PRIORITY)


class _Grant:
    """The ``GRANT`` dialog as handlers.core calls it."""

    ask = staticmethod(_grant_ask)
    answer = staticmethod(_grant_answer)


GRANT = _Grant()


async def answer_name(ctx: Context, state: DialogState) -> list[Outbound]:
    """A stranger asked for their name answers: enrol under it, or ask again."""
    name = person_name(ctx.inbound.text)
    if name is None:
        return [Outbound(t("enrol.name_invalid"))]
    replies = await enrol(ctx, state.draft["code"], name)
    if ctx.person is None:  # the code was used or expired meanwhile: stop asking
        await clear_dialog(ctx.conn, ctx.inbound.channel, ctx.inbound.sender_id)
    return replies


async def give_up(ctx: Context) -> list[Outbound]:
    """The stranger cancels while asked for their name: nothing saved, the code unused."""
    await clear_dialog(ctx.conn, ctx.inbound.channel, ctx.inbound.sender_id)
    return [Outbound(t("enrol.cancelled"))]
