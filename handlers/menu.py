"""Menus, help and "who am I", per role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from handlers import movement
from handlers.router import menu_option
from storage import areas, people

if TYPE_CHECKING:
    from handlers.context import Context

ROLE_KEYS = {"village_head": "role.village_head", "officer": "role.officer", "admin": "role.admin"}
CHANNEL_KEYS = {"telegram": "channel.telegram", "zalo": "channel.zalo",
                "console": "channel.console"}


def channel_name(channel: str) -> str:
    """A messenger's name as people know it."""
    key = CHANNEL_KEYS.get(channel)
    return t(key) if key else channel


def identity_label(identity: dict) -> str:
    """``Zalo «Páo»``: the messenger and the name the account shows."""
    return t("link.identity", channel=channel_name(identity["channel"]),
             name=identity["display_name"] or t("link.unnamed"))


def role_label(ctx: Context, role: str, area) -> str:
    level = ctx.config.level_name(area.level)
    name = area.name
    if not name.lower().startswith(level.lower()) and role != "village_head":
        name = f"{level} {name}"
    return t("role.line", role=t(ROLE_KEYS[role]), area=name)


async def area_choices(conn, area_ids) -> tuple[Option, ...]:
    """A numbered choice of areas (``area:<id>``), skipping any that no longer exist."""
    options = []
    for area_id in area_ids:
        area = await areas.get_area(conn, area_id)
        if area is not None:
            options.append(Option(area.name, f"area:{area.id}"))
    return tuple(options)


def main_menu(ctx: Context, text: str) -> Outbound:
    """``text`` followed by the buttons of what this person can do."""
    options = [Option(t("menu.option.report"), menu_option("report")),
               Option(t("menu.option.household"), menu_option("household"))]
    if ctx.person.has_role("officer", "admin"):
        options.append(Option(t("menu.option.review"), menu_option("review")))
        options.append(Option(t("menu.option.stats"), menu_option("stats")))
    options.append(Option(t("menu.option.calendar"), menu_option("calendar")))
    options.append(Option(t("menu.option.help"), menu_option("help")))
    return Outbound(text, tuple(options), free_input=False)


def help_text(ctx: Context) -> Outbound:
    person = ctx.person
    lines = [t("help.title")]
    if person.has_role("village_head"):
        lines.append(t("help.village_head"))
    lines.append(t("help.households"))
    lines.append(movement.help_line())
    if person.has_role("officer", "admin"):
        lines.append(t("help.officer"))
        lines.append(t("help.review"))
        lines.append(t("help.announce"))
        lines.append(t("help.stats"))
    lines.append(t("help.calendar"))
    if person.has_role("officer", "admin"):
        lines.append(t("help.remind_again"))
    lines.append(t("help.common"))
    return Outbound("\n".join(lines))


async def whoami(ctx: Context) -> Outbound:
    """Who the person is: their roles and the messenger accounts they use the bot from."""
    person = ctx.person
    roles = "\n".join(role_label(ctx, r.role, r.area) for r in person.roles)
    current = (ctx.inbound.channel, ctx.inbound.sender_id)
    lines = [t("whoami.identity_current" if (i["channel"], i["external_id"]) == current
               else "whoami.identity", account=identity_label(i))
             for i in await people.identities_of(ctx.conn, person.id)]
    return Outbound("\n\n".join((t("whoami", name=person.full_name, roles=roles),
                                   t("whoami.identities", lines="\n".join(lines)),
                                   t("whoami.link_hint"))))
