"""The monthly village report dialog: which village, which month, then the form.

Steps: ``pick_area`` (officers, or a head of several villages) → ``form`` (the engine), with a
detour to ``pick_period`` when the person wants another month. See ``report.mmd``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from bot.config import MonthlyReportConfig
from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import NumberError, parse_count
from handlers import menu
from handlers.forms.engine import FormEngine
from handlers.forms.monthly import FROM_LIST, monthly_spec
from reports.periods import Month, default_month, parse_month
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState
from storage.households import has_household_list, village_figures
from storage.reports import MONTHLY_FORM, current_report, save_report

if TYPE_CHECKING:
    from handlers.context import Answer, Context

MAX_AREA_OPTIONS = 30

Result = tuple[DialogState | None, list[Outbound]]


@lru_cache(maxsize=4)
def engine(cfg: MonthlyReportConfig) -> FormEngine:
    return FormEngine(monthly_spec(cfg))


# ---- starting ---------------------------------------------------------------------------


async def start(ctx: Context, args: str) -> Result:
    """``/baocao [month] [figures… | village name]``."""
    tokens = args.split()
    period = None
    for size in (2, 1):
        if len(tokens) >= size and (found := parse_month(" ".join(tokens[:size]), ctx.today)):
            period, tokens = found, tokens[size:]
            break
    values: list[str] = []
    query = ""
    if tokens:
        try:
            parse_count(tokens[0])
            values = tokens
        except NumberError:
            for size in (2, 1):  # "/baocao Nà Khan 10/2026": the month may also come last
                if period is None and len(tokens) > size:
                    found = parse_month(" ".join(tokens[-size:]), ctx.today)
                    if found:
                        period, tokens = found, tokens[:-size]
            query = " ".join(tokens)
    if query:
        return await _choose_by_name(ctx, query, period, values)
    own = [r.area for r in ctx.person.roles
           if r.role == "village_head" and r.area.level == ctx.config.report_level]
    if len(own) == 1:
        return await begin(ctx, own[0], period, values)
    candidates = own or await _villages_in_scope(ctx)
    if len(candidates) == 1:
        return await begin(ctx, candidates[0], period, values)
    draft = {"period": period.key if period else None, "values": values,
             "choices": [a.id for a in candidates[:MAX_AREA_OPTIONS]]}
    if len(candidates) > MAX_AREA_OPTIONS:
        draft["choices"] = []
    state = DialogState("report", "pick_area", draft)
    return state, await ask(ctx, state)


async def _villages_in_scope(ctx: Context) -> list[Area]:
    found: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role in ("officer", "admin"):
            for area in await areas.subtree(ctx.conn, r.area, level=ctx.config.report_level):
                found[area.id] = area
    return sorted(found.values(), key=lambda a: a.path)


async def _choose_by_name(
    ctx: Context, query: str, period: Month | None, values: list[str]
) -> Result:
    found = await areas.find_areas(ctx.conn, query, level=ctx.config.report_level, limit=50)
    allowed = [a for a in found if ctx.person.can_report_for(a)]
    if not allowed:
        own = [r.area.name for r in ctx.person.roles if r.role == "village_head"]
        if own and not ctx.person.has_role("officer", "admin"):
            return None, [Outbound(t("report.only_own_village", village=", ".join(own)))]
        return None, [Outbound(t("report.area_not_found", query=query[:60]))]
    if len(allowed) == 1:
        return await begin(ctx, allowed[0], period, values)
    draft = {"period": period.key if period else None, "values": values,
             "choices": [a.id for a in allowed[:MAX_AREA_OPTIONS]]}
    state = DialogState("report", "pick_area", draft)
    return state, await ask(ctx, state)


def period_error(ctx: Context, area: Area, period: Month) -> str | None:
    """Why ``period`` cannot be filed now by this person, or None."""
    if period > Month.of(ctx.today):
        return t("report.future", period=period.label)
    lock = period.lock_date(ctx.config.monthly.lock_day)
    if ctx.today > lock and not ctx.person.can_override_lock(area):
        return t("report.locked", period=period.label, lock=f"{lock:%d/%m/%Y}")
    return None


async def begin(
    ctx: Context, area: Area, period: Month | None, values: list[str] | None = None
) -> Result:
    """Open the form for ``area`` and ``period`` (default: the sensible month)."""
    cfg = ctx.config.monthly
    period = period or default_month(ctx.today, cfg.previous_month_until_day)
    error = period_error(ctx, area, period)
    if error:
        return None, [Outbound(error)]
    current = await current_report(ctx.conn, area.id, MONTHLY_FORM, period.key)
    previous = await current_report(ctx.conn, area.id, MONTHLY_FORM, period.previous().key)
    source = current or previous
    draft = {
        "area_id": area.id,
        "area_name": area.name,
        "period": period.key,
        "title": t("report.title", period=period.label, area=area.name),
        "defaults": dict(source.data) if source else {},
        "previous": dict(previous.data) if previous else None,
        "version": current.version if current else 0,
    }
    intro = [t("report.intro", period=period.label, area=area.name)]
    if await has_household_list(ctx.conn, area.id):
        listed = await village_figures(ctx.conn, area.id, period.key)
        draft["from_list"] = {k: listed[k] for k in FROM_LIST}
        draft["defaults"].update(draft["from_list"])
        intro.append(t("report.from_list"))
    if current:
        intro.append(t("report.replaces", version=current.version,
                       name=current.submitted_by_name or "?",
                       at=f"{current.submitted_at.astimezone(ctx.config.timezone):%d/%m/%Y}"))
    elif previous is None:
        intro.append(t("report.no_previous"))
    step = engine(cfg).start(draft, values or None)
    return DialogState("report", "form", step.draft), [Outbound("\n".join(intro))] + step.messages


# ---- the dialog -------------------------------------------------------------------------


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    draft = state.draft
    if state.step == "pick_area":
        options = await menu.area_choices(ctx.conn, draft["choices"])
        text = t("report.pick_area") if options else t("report.type_area")
        # A numbered list: "2" picks the second village; a typed name is searched for.
        return [Outbound(text, options + (Option(t("form.option.cancel"), "cancel"),),
                         free_input=False)]
    if state.step == "pick_period":
        current = Month.of(ctx.today)
        area = await areas.get_area(ctx.conn, draft["area_id"])
        months = [m for m in (current, current.previous(), current.previous().previous())
                  if period_error(ctx, area, m) is None]
        options = tuple(Option(t("report.option.month", period=m.label), f"period:{m.key}")
                        for m in months)
        return [Outbound(t("report.pick_period"),
                         options + (Option(t("form.option.cancel"), "cancel"),),
                         free_input=False)]
    return [engine(ctx.config.monthly).ask(draft)]


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if state.step == "pick_area":
        return await _on_pick_area(ctx, state, reply)
    if state.step == "pick_period":
        return await _on_pick_period(ctx, state, reply)
    step = engine(ctx.config.monthly).answer(state.draft, reply.text, reply.action)
    if step.cancelled:
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if step.action == "period":
        state.step = "pick_period"
        return state, await ask(ctx, state)
    if step.submitted:
        return await _submit(ctx, state)
    state.draft = step.draft
    return state, step.messages


async def _on_pick_area(ctx: Context, state: DialogState, reply: Answer) -> Result:
    draft = state.draft
    period = Month.parse_key(draft["period"]) if draft.get("period") else None
    if reply.action and reply.action.startswith("area:"):
        area = await areas.get_area(ctx.conn, int(reply.action[5:]))
        if area is None or not ctx.person.can_report_for(area):
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        return await begin(ctx, area, period, draft.get("values"))
    if not reply.text.strip():
        return state, [Outbound(t("report.type_area"))]
    new_state, messages = await _choose_by_name(ctx, reply.text, period, draft.get("values", []))
    if new_state is None and messages and len(messages) == 1:
        return state, messages + await ask(ctx, state)  # not found: stay on the question
    return new_state, messages


async def _on_pick_period(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action and reply.action.startswith("period:"):
        period = Month.parse_key(reply.action[7:])
    else:
        period = parse_month(reply.text, ctx.today)
    if period is None:
        return state, [Outbound(t("report.period_expected"))] + await ask(ctx, state)
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    error = period_error(ctx, area, period)
    if error:
        return state, [Outbound(error)] + await ask(ctx, state)
    return await begin(ctx, area, period)


async def _submit(ctx: Context, state: DialogState) -> Result:
    """Save the report as a new version, checking rights and the lock once more."""
    draft = state.draft
    area = await areas.get_area(ctx.conn, draft["area_id"])
    period = Month.parse_key(draft["period"])
    if area is None or not ctx.person.can_report_for(area):
        return None, [menu.main_menu(ctx, t("report.not_allowed"))]
    error = period_error(ctx, area, period)
    if error:
        return None, [menu.main_menu(ctx, error)]
    spec = engine(ctx.config.monthly).spec
    data = {f.key: draft["values"].get(f.key) for f in spec.fields}
    data["note"] = data.get("note") or ""
    version = await save_report(
        ctx.conn, area_id=area.id, form=MONTHLY_FORM, period=period.key, data=data,
        actor=ctx.actor, via=ctx.inbound.channel, at=ctx.now,
    )
    done = t("report.saved", period=period.label, area=area.name, version=version)
    return None, [menu.main_menu(ctx, done)]
