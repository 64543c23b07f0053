"""Menus, help and "who am I", per role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.text import fold
from handlers import movement
from handlers.router import menu_option
from storage import areas, people

if TYPE_CHECKING:
    from handlers.context import Context
    from storage.areas import Area

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


# ---- choosing an area among many (statistics, announcements) ------------------------------
AREA_PAGE = 10  # areas offered at once; «Xem thêm» shows the next ones
AREA_SEARCH_LIMIT = 100  # areas a search keeps; past that the person is asked to type more


async def areas_in_scope(ctx: Context, query: str) -> tuple[list[Area], bool]:
    """Areas in the person's officer scopes whose name contains ``query`` (an exact name
    wins), at most AREA_SEARCH_LIMIT, and whether there are more. Searched within each scope,
    so a match outside them never crowds out one inside."""
    found: dict[int, Area] = {}
    more = False
    for scope in ctx.person.scopes():
        hits = await areas.find_areas(ctx.conn, query, within=scope,
                                      limit=AREA_SEARCH_LIMIT + 1)
        more = more or len(hits) > AREA_SEARCH_LIMIT
        found.update((a.id, a) for a in hits[:AREA_SEARCH_LIMIT])
    wanted = fold(query)
    matches = sorted(found.values(), key=lambda a: (fold(a.name) != wanted, fold(a.name)))
    exact = [a for a in matches
             if fold(a.name) == wanted or fold(a.name).split(" ", 1)[-1] == wanted]
    if len(exact) == 1:
        return exact, False
    return matches[:AREA_SEARCH_LIMIT], more or len(matches) > AREA_SEARCH_LIMIT


def area_pick_draft(choices: list[Area], more: bool, query: str) -> dict:
    """What a dialog keeps of a choice of areas (``choices`` ids, the page shown)."""
    return {"choices": [a.id for a in choices], "more": more, "query": query[:60], "page": 0}


async def area_page(ctx: Context, draft: dict, question: str) -> Outbound:
    """``question`` with one page of the areas in ``draft`` (area_pick_draft), saying how
    many there are — never a list cut without a word — and «Xem thêm» while more follow."""
    choices, page = draft["choices"], draft.get("page", 0)
    first = page * AREA_PAGE
    options = await area_choices(ctx.conn, choices[first:first + AREA_PAGE])
    text = question
    if len(choices) > AREA_PAGE or draft.get("more"):
        key = ("areas.pick_page_more" if draft.get("more") else "areas.pick_page"
               if draft.get("query") else "areas.pick_page_scopes")
        text = t(key, n=len(choices), query=draft.get("query") or "", first=first + 1,
                 last=min(first + AREA_PAGE, len(choices))) + " " + question
    rest = len(choices) - first - AREA_PAGE
    if rest > 0:
        options += (Option(t("areas.option.more", n=rest), "more"),)
    return Outbound(text, options + (Option(t("form.option.cancel"), "cancel", ("huy",)),),
                    free_input=False)


def next_area_page(draft: dict) -> None:
    """Turn to the next page of areas (the last one stays)."""
    pages = max(1, -(-len(draft["choices"]) // AREA_PAGE))
    draft["page"] = min(draft.get("page", 0) + 1, pages - 1)


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
