"""``/thongbao``: an officer or admin sends a message to everyone in their area.

Steps: ``pick_area`` (when the person has several areas, or typed a name that matches
several) → ``text`` (the message) → ``confirm`` (a preview with the number of recipients) →
planned in the outbox, in this message's transaction; the dispatcher sends it at the channel's
rate and reports progress to the sender. An area outside the sender's scope is refused
without a hint of what exists there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.text import NO_WORDS, YES_WORDS, plain, visible
from handlers import menu
from handlers.campaigns import announcement_recipients, plan_announcement
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
MAX_LENGTH = 1500  # leaves room for the header under Zalo's 2,000 characters


def _scopes(ctx: Context) -> list[Area]:
    return [r.area for r in ctx.person.roles if r.role in ("officer", "admin")]


async def start(ctx: Context, args: str) -> Result:
    """``/thongbao [tên địa bàn]``."""
    scopes = _scopes(ctx)
    if not scopes:
        return None, [Outbound(t("announce.officers_only"))]
    query = visible(args)
    choices, more = scopes, False
    if query:
        choices, more = await menu.areas_in_scope(ctx, query)
        if not choices:
            return None, [Outbound(t("announce.area_not_found", query=query[:60]))]
    if len(choices) == 1:
        return await _ask_text(ctx, choices[0])
    state = DialogState("announce", "pick_area", menu.area_pick_draft(choices, more, query))
    return state, await ask(ctx, state)


async def _ask_text(ctx: Context, area: Area) -> Result:
    state = DialogState("announce", "text", {"area_id": area.id, "area_name": area.name})
    return state, await ask(ctx, state)


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    draft = state.draft
    cancel = Option(t("form.option.cancel"), "cancel", ("huy",))
    if state.step == "pick_area":
        return [await menu.area_page(ctx, draft, t("announce.pick_area"))]
    if state.step == "text":
        return [Outbound(t("announce.ask_text", area=draft["area_name"], max=MAX_LENGTH),
                         (cancel,))]
    area = await areas.get_area(ctx.conn, draft["area_id"])
    count = len(await announcement_recipients(ctx.conn, area, ctx.person.id)) if area else 0
    lines = [t("announce.preview", text=draft["text"], n=count, area=draft["area_name"])]
    if ctx.config.calendar.in_quiet_hours(
            ctx.now.astimezone(ctx.config.timezone).time().replace(tzinfo=None)):
        lines.append(t("announce.quiet_hours",
                       start=f"{ctx.config.calendar.quiet_end:%H:%M}"))
    return [Outbound("\n\n".join(lines), (
        Option(t("announce.option.send"), "send", ("gui", "dong y", "ok")),
        Option(t("announce.option.edit"), "edit", ("sua",)),
        cancel,
    ))]


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Applies one answer to the current step."""
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if state.step == "pick_area":
        return await _on_pick_area(ctx, state, reply)
    if state.step == "text":
        return await _on_text(ctx, state, reply)
    return await _on_confirm(ctx, state, reply)


async def _on_pick_area(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Takes the chosen area (a button, its number, or a name typed again)."""
    if reply.action == "more":
        menu.next_area_page(state.draft)
        return state, await ask(ctx, state)
    area = None
    if reply.action and reply.action.startswith("area:"):
        area = await areas.get_area(ctx.conn, int(reply.action[5:]))
    if area is None or not ctx.person.can_see(area):
        found = (await menu.areas_in_scope(ctx, reply.text))[0] if visible(reply.text) else []
        if len(found) != 1:
            return state, [Outbound(t("announce.pick_expected"))] + await ask(ctx, state)
        area = found[0]
    return await _ask_text(ctx, area)


async def _on_text(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Keeps the message and shows the preview."""
    text = reply.text.strip()
    if not text:
        return state, [Outbound(t("announce.text_empty"))] + await ask(ctx, state)
    if len(text) > MAX_LENGTH:
        return state, [Outbound(t("announce.text_too_long", max=MAX_LENGTH, n=len(text)))]
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    if area is None or not await announcement_recipients(ctx.conn, area, ctx.person.id):
        return None, [menu.main_menu(ctx, t("announce.nobody", area=state.draft["area_name"]))]
    state.step = "confirm"
    state.draft["text"] = text
    return state, await ask(ctx, state)


async def _on_confirm(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Plans the announcement, or goes back to the text."""
    if reply.action == "edit":
        state.step = "text"
        return state, await ask(ctx, state)
    typed = plain(reply.text) if reply.action is None else ""
    if reply.action == "send" or typed in YES_WORDS:  # «Gửi ngay?» — «có»
        return await _plan(ctx, state)
    key = "announce.not_sent" if typed in NO_WORDS else "announce.confirm_expected"
    return state, [Outbound(t(key))] + await ask(ctx, state)


async def _plan(ctx: Context, state: DialogState) -> Result:
    """Plans the announcement through the outbox."""
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    if area is None or not ctx.person.can_see(area) or not _scopes(ctx):
        return None, [menu.main_menu(ctx, t("announce.not_allowed"))]
    key = f"announce:{ctx.inbound.channel}:{ctx.inbound.sender_id}:{ctx.inbound.message_id}"
    _, count, starts = await plan_announcement(
        ctx.conn, ctx.config, key=key, sender_id=ctx.person.id,
        sender_name=ctx.person.full_name, area=area, text=state.draft["text"], now=ctx.now,
        actor=ctx.actor)
    when = starts.astimezone(ctx.config.timezone)
    later = when > ctx.now.astimezone(ctx.config.timezone)
    done = t("announce.planned_later" if later else "announce.planned", n=count,
             area=area.name, at=f"{when:%H:%M %d/%m}")
    return None, [menu.main_menu(ctx, done)]
