"""Enrolment by one-time invite code: ``/start CODE`` or the code typed alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Outbound
from common.text import fold
from handlers import menu
from storage import areas, invites, people

if TYPE_CHECKING:
    from handlers.context import Context


def normalise_code(text: str) -> str:
    return fold(text).replace("-", "").replace(" ", "").upper()[:32]


async def enrol(ctx: Context, raw_code: str) -> list[Outbound]:
    """Use the invite: create the person (or add the role to them) and link this chat."""
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
        name = invite.full_name or inbound.display_name or t("enrol.default_name")
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
