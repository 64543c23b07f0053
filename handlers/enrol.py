"""Enrolment by one-time invite code: ``/start CODE`` or the code typed alone.

The person is saved under the name the invite gives, else the name their messenger shows;
when there is neither (the console, an account without a name), the bot asks for it first
(a stranger's dialog, ``ENROL``) and uses the code only once it has one: nothing is saved
under a placeholder, and giving up leaves the code unused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Outbound
from common.text import fold
from handlers import menu
from handlers.router import match
from storage import areas, invites, people
from storage.dialogs import DialogState, clear_dialog, save_dialog

if TYPE_CHECKING:
    from handlers.context import Context


ENROL = "enrol"  # a stranger's dialog: their name, asked before the invite is used
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


async def enrol(ctx: Context, raw_code: str, name: str | None = None) -> list[Outbound]:
    """Use the invite: create the person (or add the role to them) and link this chat;
    ``name``, the one a stranger gave when asked (see ``answer_name``)."""
    code = normalise_code(raw_code)
    invite = await invites.get_invite(ctx.conn, code) if code else None
    if invite is None:
        return [Outbound(t("enrol.invalid"))]
    if invite.used_at is not None:
        return [Outbound(t("enrol.used"))]
    if invite.expires_at <= ctx.now:
        return [Outbound(t("enrol.expired"))]
    area = await areas.get_area(ctx.conn, invite.area_id)
    inbound = ctx.inbound
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
