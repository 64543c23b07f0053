"""Households in chat: find, add, edit; assessment by the poverty standard; support; voluntary
exit registration (village heads and officers); review and recognition (officers).

Dialog ``household`` — steps: ``find`` (type a code or a name) → ``pick`` (several matches)
→ ``card`` (the household and what can be done) → ``form`` (one of the household forms, run by
the form engine) → back to the card. Dialog ``review`` (officers) — ``list`` → ``item`` →
``reason`` (for "not yet", "withdrawn", "not recognised") → back to the list.

Names are only shown to people whose area contains the household's village.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from handlers import household_list, menu
from handlers.forms.engine import FormEngine, FormSpec, format_value
from handlers.forms.households import (
    HOUSEHOLD,
    HOUSEHOLD_EDIT,
    PLAN_KINDS,
    REGISTRATION,
    SUPPORT,
    SUPPORT_KINDS,
    assessment_spec,
)
from reports.poverty import NoStandardError, classify, explain, standard_for, status_label
from storage import areas
from storage import households as hh
from storage.areas import Area
from storage.dialogs import DialogState
from storage.households import Household, HouseholdError

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
# Message keys, spelled out so the catalogue test sees every one of them.
ERRORS = {
    "household.duplicate_code": "households.error.duplicate_code",
    "household.no_code": "households.error.no_code",
    "household.no_name": "households.error.no_name",
    "household.unknown_status": "households.error.unknown_status",
    "household.not_found": "households.gone",
    "registration.open_exists": "households.error.open_registration",
    "registration.already_exited": "households.error.already_exited",
    "registration.not_poor": "households.error.not_poor",
    "registration.transition": "households.error.transition",
    "registration.not_found": "households.gone",
    "assessment.decided": "households.error.already_decided",
    "assessment.not_found": "households.gone",
}
REGISTRATION_STATES = {
    "registered": "registration.state.registered",
    "under_review": "registration.state.under_review",
    "recognised": "registration.state.recognised",
    "not_yet": "registration.state.not_yet",
    "withdrawn": "registration.state.withdrawn",
}
ASSESSMENT_STATES = {
    "suggested": "households.card.assessment.suggested",
    "recognised": "households.card.assessment.recognised",
    "rejected": "households.card.assessment.rejected",
}
DECIDED = {
    "recognised": "households.review.done.recognised",
    "under_review": "households.review.done.under_review",
    "not_yet": "households.review.done.not_yet",
    "withdrawn": "households.review.done.withdrawn",
    "rejected": "households.review.done.rejected",
}
MAX_OPTIONS = 12
OPEN_REGISTRATION = ("registered", "under_review", "not_yet")
FORMS = {"add": HOUSEHOLD, "edit": HOUSEHOLD_EDIT, "support": SUPPORT,
         "register": REGISTRATION}


def _cancel() -> Option:
    return Option(t("form.option.cancel"), "cancel", ("huy",))


def _error(exc: HouseholdError) -> Outbound:
    return Outbound(t(ERRORS.get(exc.key, "core.internal_error")))


# ---- who may see what -------------------------------------------------------------------


def _scopes(ctx: Context) -> list[Area]:
    """Where this person may look for households: their villages, or their officer areas."""
    return [r.area for r in ctx.person.roles]


async def _village_of(ctx: Context, household: Household) -> Area | None:
    """The household's village, if this person may see it (None otherwise)."""
    village = await areas.get_area(ctx.conn, household.village_id)
    return village if village is not None and ctx.person.can_see(village) else None


async def _load(ctx: Context, household_id: int) -> tuple[Household, Area] | None:
    household = await hh.get_household(ctx.conn, household_id)
    if household is None:
        return None
    village = await _village_of(ctx, household)
    return (household, village) if village else None


def _may_edit(ctx: Context, village: Area) -> bool:
    return ctx.person.can_report_for(village)


# ---- /ho ----------------------------------------------------------------------------------


async def start(ctx: Context, args: str, intent: str | None = None) -> Result:
    """``/ho [code or name]``: find a household (or add one)."""
    state = DialogState("household", "find", {"intent": intent})
    if args.strip():
        return await _search(ctx, state, args)
    return state, await ask(ctx, state)


async def _search(ctx: Context, state: DialogState, query: str) -> Result:
    found: dict[int, Household] = {}
    for scope in _scopes(ctx):
        for household in await hh.find_households(ctx.conn, query, within=scope,
                                                  limit=MAX_OPTIONS):
            found[household.id] = household
    matches = sorted(found.values(), key=lambda h: (h.village_id, h.code))[:MAX_OPTIONS]
    if not matches:
        return state, [Outbound(t("households.not_found", query=query[:40]))] + await ask(
            ctx, state)
    if len(matches) == 1:
        return await _show_card(ctx, state, matches[0].id)
    state.step = "pick"
    state.draft["choices"] = [h.id for h in matches]
    return state, await ask(ctx, state)


async def _show_card(ctx: Context, state: DialogState, household_id: int,
                     before: list[Outbound] | None = None) -> Result:
    """Show the household (or, when the dialog was opened for it, go straight to a form)."""
    loaded = await _load(ctx, household_id)
    if loaded is None:
        return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
    intent = state.draft.get("intent")
    state.step = "card"
    state.draft = {"household_id": household_id}
    if intent:
        new_state, messages = await _open_form(ctx, state, intent)
        return new_state, list(before or []) + messages
    return state, list(before or []) + await ask(ctx, state)


async def _card(ctx: Context, household: Household, village: Area) -> str:
    flags = [t(f"form.household.{key}.label") for key in
             ("ethnic_minority", "no_work_capacity", "has_merit", "has_loan")
             if getattr(household, key)]
    lines = [t("households.card.title", code=household.code, name=household.head_name,
               village=village.name),
             t("households.card.status", status=status_label(household.status),
               since=f"{household.status_since:%d/%m/%Y}")]
    if household.recently_exited_until and household.recently_exited_until >= ctx.today:
        lines.append(t("households.card.recently_exited",
                       until=f"{household.recently_exited_until:%d/%m/%Y}"))
    lines.append(t("households.card.flags", flags=", ".join(flags) or t("form.none_selected")))
    assessments = await hh.assessments(ctx.conn, household.id)
    if assessments:
        last = assessments[-1]
        lines.append(t(ASSESSMENT_STATES[last.state], year=last.year,
                       status=status_label(last.suggested_status)))
    for reg in await hh.registrations(ctx.conn, village_id=household.village_id):
        if reg.household_id == household.id:
            lines.append(t("households.card.registration", year=reg.target_year,
                           state=t(REGISTRATION_STATES[reg.state])))
    return "\n".join(lines)


# ---- the dialog -----------------------------------------------------------------------------


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    draft = state.draft
    if state.step in household_list.STEPS:  # is the village's list complete?
        return await household_list.ask(ctx, state)
    if state.step == "find":
        return [Outbound(t("households.find"),
                         (Option(t("households.option.add"), "add"),
                          Option(t("households.option.list"), "list"), _cancel()))]
    if state.step == "pick":
        options = []
        for household_id in draft["choices"]:
            household = await hh.get_household(ctx.conn, household_id)
            if household is not None:
                options.append(Option(f"{household.code} · {household.head_name}",
                                      f"hh:{household.id}"))
        return [Outbound(t("households.pick"), tuple(options) + (_cancel(),), free_input=False)]
    if state.step == "pick_village":
        options = []
        for area_id in draft["villages"]:
            area = await areas.get_area(ctx.conn, area_id)
            options.append(Option(area.name, f"village:{area.id}"))
        return [Outbound(t("households.pick_village"), tuple(options) + (_cancel(),),
                         free_input=False)]
    if state.step == "card":
        loaded = await _load(ctx, draft["household_id"])
        if loaded is None:
            return [Outbound(t("households.gone"))]
        household, village = loaded
        options = [Option(t("households.option.assess"), "assess"),
                   Option(t("households.option.support"), "support"),
                   Option(t("households.option.register"), "register"),
                   Option(t("households.option.edit"), "edit"),
                   Option(t("households.option.done"), "cancel")]
        if not _may_edit(ctx, village):
            options = options[-1:]
        return [Outbound(await _card(ctx, household, village), tuple(options),
                         free_input=False)]
    return [_engine(draft).ask(draft["form"])]


def _spec(draft: dict) -> FormSpec:
    if draft["form_kind"] == "assess":
        return assessment_spec(tuple(draft["indicators"]))
    return FORMS[draft["form_kind"]]


def _engine(draft: dict) -> FormEngine:
    return FormEngine(_spec(draft))


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel":
        if state.step == "form" and state.draft.get("household_id"):
            return await _show_card(ctx, state, state.draft["household_id"],
                                    [Outbound(t("core.cancelled"))])
        return None, [menu.main_menu(ctx, t("households.closed"))]
    step = state.step
    if step in household_list.STEPS:
        return await household_list.answer(ctx, state, reply, back=ask)
    if step == "find":
        if reply.action == "add":
            return await _start_add(ctx, state)
        if reply.action == "list":
            return await household_list.start(ctx, state)
        if not reply.text.strip():
            return state, await ask(ctx, state)
        return await _search(ctx, state, reply.text)
    if step == "pick":
        if reply.action and reply.action.startswith("hh:"):
            return await _show_card(ctx, state, int(reply.action[3:]))
        return await _search(ctx, state, reply.text)
    if step == "pick_village":
        if reply.action and reply.action.startswith("village:"):
            area = await areas.get_area(ctx.conn, int(reply.action[8:]))
            if area is not None and ctx.person.can_report_for(area):
                return await _open_add_form(ctx, state, area)
        return state, [Outbound(t("households.pick_village"))] + await ask(ctx, state)
    if step == "card":
        if reply.action in ("assess", "support", "register", "edit"):
            return await _open_form(ctx, state, reply.action)
        return state, [Outbound(t("households.choose_action"))] + await ask(ctx, state)
    return await _on_form(ctx, state, reply)


async def _start_add(ctx: Context, state: DialogState) -> Result:
    villages: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role == "village_head":
            villages[r.area.id] = r.area
        else:
            for v in await areas.subtree(ctx.conn, r.area, level=ctx.config.report_level):
                villages[v.id] = v
    if len(villages) == 1:
        return await _open_add_form(ctx, state, next(iter(villages.values())))
    if not villages or len(villages) > MAX_OPTIONS * 3:
        return state, [Outbound(t("households.add_via_village_head"))] + await ask(ctx, state)
    state.step = "pick_village"
    state.draft = {"villages": sorted(villages, key=lambda i: villages[i].path)}
    return state, await ask(ctx, state)


async def _open_add_form(ctx: Context, state: DialogState, village: Area) -> Result:
    draft = {"form_kind": "add", "village_id": village.id, "today": ctx.today.isoformat(),
             "title": t("households.add_title", village=village.name)}
    step = FormEngine(HOUSEHOLD).start(draft)
    state.step, state.draft = "form", {"form_kind": "add", "village_id": village.id,
                                       "form": step.draft}
    return state, [Outbound(t("households.add_intro", village=village.name))] + step.messages


async def _open_form(ctx: Context, state: DialogState, kind: str) -> Result:
    loaded = await _load(ctx, state.draft["household_id"])
    if loaded is None:
        return None, [menu.main_menu(ctx, t("households.gone"))]
    household, village = loaded
    if not _may_edit(ctx, village):
        return state, [Outbound(t("households.read_only"))] + await ask(ctx, state)
    draft: dict = {"form_kind": kind, "household_id": household.id}
    form = {"today": ctx.today.isoformat(),
            "title": t("households.form_title", code=household.code, name=household.head_name)}
    if kind == "assess":
        try:
            standard = standard_for(ctx.config.poverty, ctx.today.year)
        except NoStandardError as exc:
            return state, [Outbound(t(exc.key, **exc.params))] + await ask(ctx, state)
        draft["indicators"] = list(standard.indicator_keys)
        previous = await hh.assessments(ctx.conn, household.id)
        if previous:
            last = previous[-1]
            form["defaults"] = {"income": last.income_per_person,
                                **{f"lacks_{k}": k in last.deprived
                                   for k in standard.indicator_keys}}
    elif kind == "edit":
        form["defaults"] = {f.key: getattr(household, f.key) for f in HOUSEHOLD_EDIT.fields}
    elif kind == "register":
        form["bounds"] = {"target_year": [ctx.today.year, ctx.today.year + 5]}
    state.step = "form"
    draft["form"] = form
    step = _engine(draft).start(form)
    draft["form"] = step.draft
    state.draft = draft
    return state, step.messages


async def _on_form(ctx: Context, state: DialogState, reply: Answer) -> Result:
    draft = state.draft
    step = _engine(draft).answer(draft["form"], reply.text, reply.action)
    if step.cancelled:
        return await answer(ctx, state, type(reply)("", "cancel"))
    draft["form"] = step.draft
    if not step.submitted:
        return state, step.messages
    values = step.draft["values"]
    try:
        if draft["form_kind"] == "add":
            return await _save_new(ctx, state, values)
        return await _save(ctx, state, values)
    except HouseholdError as exc:
        draft["form"]["mode"] = "pick_fix"
        return state, [_error(exc)] + await ask(ctx, state)


async def _save_new(ctx: Context, state: DialogState, values: dict) -> Result:
    village = await areas.get_area(ctx.conn, state.draft["village_id"])
    if village is None or not ctx.person.can_report_for(village):
        return None, [menu.main_menu(ctx, t("households.read_only"))]
    household = await hh.add_household(
        ctx.conn, village_id=village.id, code=values["code"], head_name=values["head_name"],
        status=values["status"], status_since=ctx.today,
        ethnic_minority=values["ethnic_minority"], no_work_capacity=values["no_work_capacity"],
        has_merit=values["has_merit"], has_loan=values["has_loan"], actor=ctx.actor,
        at=ctx.now,
    )
    return await _show_card(ctx, state, household.id,
                            [Outbound(t("households.added", code=household.code))])


async def _save(ctx: Context, state: DialogState, values: dict) -> Result:
    draft = state.draft
    loaded = await _load(ctx, draft["household_id"])
    if loaded is None or not _may_edit(ctx, loaded[1]):
        return None, [menu.main_menu(ctx, t("households.read_only"))]
    household, village = loaded
    kind = draft["form_kind"]
    if kind == "edit":
        await hh.update_household(ctx.conn, household.id, values, actor=ctx.actor, at=ctx.now)
        done = [Outbound(t("households.saved"))]
    elif kind == "support":
        await hh.add_support(ctx.conn, household.id, kind=values["kind"],
                             amount_vnd=values["amount"], source=values.get("source") or "",
                             given_on=date.fromisoformat(values["given_on"]), actor=ctx.actor,
                             at=ctx.now)
        done = [Outbound(t("households.support_saved"))]
    elif kind == "register":
        await hh.register_exit(
            ctx.conn, household.id, target_year=values["target_year"],
            plan_kind=values["plan_kind"], plan_text=values.get("plan_text") or "",
            support_asked=values.get("support_asked") or [],
            registered_on=date.fromisoformat(values["registered_on"]), actor=ctx.actor,
            at=ctx.now)
        done = [Outbound(t("households.registered", year=values["target_year"]))]
    else:
        done = [await _save_assessment(ctx, household, village, values)]
    return await _show_card(ctx, state, household.id, done)


async def _save_assessment(ctx: Context, household: Household, village: Area,
                           values: dict) -> Outbound:
    standard = standard_for(ctx.config.poverty, ctx.today.year)
    deprived = [k for k in standard.indicator_keys if values.get(f"lacks_{k}")]
    result = classify(standard, income_per_person=values["income"], deprived=deprived,
                      urban=village.urban)
    await hh.record_assessment(
        ctx.conn, household.id, year=ctx.today.year, income_per_person=values["income"],
        deprived=deprived, standard_name=standard.name, suggested_status=result.status,
        actor=ctx.actor, at=ctx.now)
    key = "households.assessed_same" if result.status == household.status else \
        "households.assessed_change"
    return Outbound("\n".join([explain(result), t(key, before=status_label(household.status),
                                                  after=status_label(result.status))]))


# ---- /dangky: registrations of my village ------------------------------------------------


async def registrations_text(ctx: Context) -> list[Outbound]:
    """The exit registrations a person can see, with their state."""
    lines = []
    for scope in _scopes(ctx):
        for reg in await hh.registrations(ctx.conn, within=scope):
            lines.append(t("households.registration_line", code=reg.household_code,
                           name=reg.head_name, year=reg.target_year,
                           state=t(REGISTRATION_STATES[reg.state])))
    text = "\n".join([t("households.registrations_title")] + lines) if lines else \
        t("households.no_registrations")
    return [Outbound(text)]


# ---- /duyet: officers review suggestions and registrations -------------------------------


async def review_start(ctx: Context) -> Result:
    if not ctx.person.has_role("officer", "admin"):
        return None, [Outbound(t("households.review_officers_only"))]
    state = DialogState("review", "list", {})
    return state, await review_ask(ctx, state)


async def _pending(ctx: Context) -> list[tuple[str, int, str]]:
    """(kind, id, label) of what waits for an officer in their areas."""
    items: list[tuple[str, int, str]] = []
    for r in ctx.person.roles:
        if r.role not in ("officer", "admin"):
            continue
        for reg in await hh.registrations(ctx.conn, within=r.area, states=OPEN_REGISTRATION):
            items.append(("reg", reg.id, t("households.review.reg_label", code=reg.household_code,
                                           name=reg.head_name, year=reg.target_year)))
        for a, household in await hh.pending_assessments(ctx.conn, within=r.area):
            if a.suggested_status != household.status:
                items.append(("asm", a.id, t("households.review.asm_label", code=household.code,
                                             name=household.head_name,
                                             after=status_label(a.suggested_status))))
    return items[:MAX_OPTIONS * 2]


async def review_ask(ctx: Context, state: DialogState) -> list[Outbound]:
    draft = state.draft
    if state.step == "list":
        items = await _pending(ctx)
        if not items:
            return [Outbound(t("households.review.nothing"))]
        options = tuple(Option(label, f"{kind}:{item_id}") for kind, item_id, label in items)
        return [Outbound(t("households.review.title", n=len(items)), options + (_cancel(),),
                         free_input=False)]
    if state.step == "item":
        return [await _review_item(ctx, draft)]
    return [Outbound(t("households.review.reason"),
                     (Option(t("form.option.skip"), "skip", ("bo qua",)), _cancel()))]


async def _review_item(ctx: Context, draft: dict) -> Outbound:
    if draft["kind"] == "reg":
        reg = await hh.get_registration(ctx.conn, draft["id"])
        plan = dict(PLAN_KINDS).get(reg.plan_kind, "household.plan.other")
        asked = [t(dict(SUPPORT_KINDS)[k]) for k in reg.support_asked if k in dict(SUPPORT_KINDS)]
        text = t("households.review.reg", code=reg.household_code, name=reg.head_name,
                 year=reg.target_year, plan=t(plan), plan_text=reg.plan_text or "—",
                 asked=", ".join(asked) or t("form.none_selected"),
                 state=t(REGISTRATION_STATES[reg.state]))
        options = [Option(t("households.review.option.recognise"), "recognised"),
                   Option(t("households.review.option.not_yet"), "not_yet"),
                   Option(t("households.review.option.under_review"), "under_review"),
                   Option(t("households.review.option.withdrawn"), "withdrawn")]
    else:
        a = await hh.get_assessment(ctx.conn, draft["id"])
        household = await hh.get_household(ctx.conn, a.household_id)
        text = t("households.review.asm", code=household.code, name=household.head_name,
                 income=format_value(assessment_spec(()).fields[0], a.income_per_person),
                 n=len(a.deprived), before=status_label(household.status),
                 after=status_label(a.suggested_status))
        options = [Option(t("households.review.option.recognise"), "recognised"),
                   Option(t("households.review.option.reject"), "rejected")]
    return Outbound(text, tuple(options) + (_cancel(),), free_input=False)


async def _review_village(ctx: Context, kind: str, item_id: int) -> Area | None:
    """The village of a pending item if this officer's area contains it."""
    if kind == "reg":
        reg = await hh.get_registration(ctx.conn, item_id)
        village_id = reg.village_id if reg else None
    else:
        a = await hh.get_assessment(ctx.conn, item_id)
        household = await hh.get_household(ctx.conn, a.household_id) if a else None
        village_id = household.village_id if household else None
    village = await areas.get_area(ctx.conn, village_id) if village_id else None
    return village if village and ctx.person.can_override_lock(village) else None


async def review_answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("households.closed"))]
    draft = state.draft
    if state.step == "list":
        kind, _, item = (reply.action or "").partition(":")
        if kind in ("reg", "asm") and item.isdigit() and \
                await _review_village(ctx, kind, int(item)):
            state.step, state.draft = "item", {"kind": kind, "id": int(item)}
            return state, await review_ask(ctx, state)
        return state, [Outbound(t("core.stale_button"))] + await review_ask(ctx, state)
    if state.step == "item":
        decision = reply.action
        if decision in ("not_yet", "withdrawn", "rejected"):
            state.step, draft["decision"] = "reason", decision
            return state, await review_ask(ctx, state)
        if decision in ("recognised", "under_review"):
            return await _decide(ctx, state, decision, "")
        return state, await review_ask(ctx, state)
    reason = "" if reply.action == "skip" else " ".join(reply.text.split())[:500]
    return await _decide(ctx, state, draft["decision"], reason)


async def _decide(ctx: Context, state: DialogState, decision: str, reason: str) -> Result:
    draft = state.draft
    if await _review_village(ctx, draft["kind"], draft["id"]) is None:
        return None, [menu.main_menu(ctx, t("households.read_only"))]
    window = ctx.config.poverty.recently_exited_months
    try:
        if draft["kind"] == "reg":
            change = await hh.set_registration_state(
                ctx.conn, draft["id"], decision, actor=ctx.actor, at=ctx.now,
                reason=reason or None, effective_date=ctx.today, exit_window_months=window)
        else:
            change = await hh.decide_assessment(
                ctx.conn, draft["id"], "recognise" if decision == "recognised" else "reject",
                actor=ctx.actor, at=ctx.now, effective_date=ctx.today,
                exit_window_months=window, reason=reason)
        said = t("households.review.already") if change.already else t(DECIDED[decision])
    except HouseholdError as exc:
        said = _error(exc).text
    state.step, state.draft = "list", {}
    return state, [Outbound(said)] + await review_ask(ctx, state)


class REVIEW:
    """The ``review`` dialog, for the core's dialog table."""

    ask = staticmethod(review_ask)
    answer = staticmethod(review_answer)
