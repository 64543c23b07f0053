"""Households in chat: find, add, edit; assessment by the poverty standard; support; voluntary
exit registration (village heads and officers); review and recognition (officers).

Dialog ``household`` — steps: ``find`` (type a code or a name) → ``pick`` (several matches)
→ ``card`` (the household and what can be done) → ``form`` (one of the household forms, run by
the form engine) → back to the card. Dialog ``review`` (officers) — ``list`` → ``item`` →
``reason`` (for "not yet", "withdrawn", "not recognised") → back to the list.

Names are only shown to people whose area contains the household's village.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import format_money
from common.text import fold, plain, visible
from handlers import household_list, menu
from handlers import household_notices as notices
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
from handlers.household_list import name_key, place
from reports.poverty import (
    NoStandardError,
    classify,
    explain,
    lacking_text,
    standard_for,
    status_label,
)
from storage import areas, people
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
    "assessment.superseded": "households.error.superseded",
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
SAVED_DECISION = {
    "recognised": "households.review.saved.recognised",
    "under_review": "households.review.saved.under_review",
    "not_yet": "households.review.saved.not_yet",
    "withdrawn": "households.review.saved.withdrawn",
    "rejected": "households.review.saved.rejected",
}
DECIDED = {
    "recognised": "households.review.done.recognised",
    "under_review": "households.review.done.under_review",
    "not_yet": "households.review.done.not_yet",
    "withdrawn": "households.review.done.withdrawn",
    "rejected": "households.review.done.rejected",
}
MAX_OPTIONS = 12
SEARCH_PAGE = 10  # households offered at once; "Xem tiếp" shows the next ones
REGISTRATIONS_PAGE = 30  # lines of /dangky at once
SAVED_FORM = {
    "edit": "households.saved.edited",
    "support": "households.saved.support",
    "register": "households.saved.registered",
    "assess": "households.saved.assessed",
}
# Registrations that wait for the commune in /duyet; "not yet" is decided for now, until the
# village asks again (the card's «Đề nghị xét lại» makes it "under review").
WAITING_REGISTRATION = hh.WAITING_STATES
FORMS = {"add": HOUSEHOLD, "edit": HOUSEHOLD_EDIT, "support": SUPPORT,
         "register": REGISTRATION}


def _cancel() -> Option:
    return Option(t("form.option.cancel"), "cancel", ("huy",))


def _close() -> Option:
    """Leaving a list: nothing to undo, so not «Hủy» (which reads as undoing decisions)."""
    return Option(t("households.option.done"), "cancel", ("xong", "dong", "huy"))


def _error(exc: HouseholdError) -> Outbound:
    return Outbound(t(ERRORS.get(exc.key, "core.internal_error")))


# ---- who may see what -------------------------------------------------------------------


def _scopes(ctx: Context) -> list[Area]:
    """Where this person may look for households: their villages, or their officer areas;
    an area inside another of their areas is left out (each household is found once)."""
    every = [r.area for r in ctx.person.roles]
    return [a for a in every
            if not any(b.id != a.id and b.contains(a) for b in every)
            and a.id not in {b.id for b in every[:every.index(a)]}]


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


def _several_villages(ctx: Context) -> bool:
    """Whether this person's households span villages (so each is named with its village)."""
    return len(_scopes(ctx)) > 1 or any(r.role != "village_head" for r in ctx.person.roles)


def _may_edit(ctx: Context, village: Area) -> bool:
    return ctx.person.can_report_for(village)


def _carry(state: DialogState, **draft: object) -> dict:
    """A new draft for the next step, keeping what the dialog has saved so far (for /huy)
    and what it was opened for."""
    kept = {k: state.draft[k] for k in ("saved", "intent") if state.draft.get(k)}
    return {**kept, **draft}


def _note_saved(state: DialogState, key: str, code: str) -> None:
    state.draft.setdefault("saved", []).append(t(key, code=code))


def saved(state: DialogState) -> list[str]:
    """What this dialog has saved (households added, support recorded, …), for ``/huy``."""
    return list(state.draft.get("saved") or [])


def PASSIVE(state: DialogState) -> bool:  # noqa: N802 (the core's name for it)
    """Only a form being filled is work under way; a search, a list or a card is not."""
    return state.step != "form"


def OWN_CANCEL(state: DialogState) -> bool:  # noqa: N802 (the core's name for it)
    """In a form, «huy» typed is the form's «❌ Hủy»: the form is dropped and the dialog goes
    back to where the form was opened — the household's card, or the search for a new
    household. ``/huy`` (with the slash) stops the whole dialog, as everywhere."""
    return state.step == "form"


# ---- /ho ----------------------------------------------------------------------------------


async def start(ctx: Context, args: str, intent: str | None = None) -> Result:
    """``/ho [code or name]``: find a household (or add one)."""
    state = DialogState("household", "find", {"intent": intent} if intent else {})
    if fold(args):
        return await _search(ctx, state, args)
    return state, await ask(ctx, state)


async def _matches(ctx: Context, query: str, offset: int, limit: int
                   ) -> tuple[list[Household], int]:
    """One page of the households matching ``query`` in this person's areas, and how many
    match in all."""
    page: list[Household] = []
    total = 0
    for scope in _scopes(ctx):
        n = await hh.count_households(ctx.conn, query, within=scope)
        if n and len(page) < limit and offset < total + n:
            skip = max(0, offset - total)
            page += await hh.find_households(ctx.conn, query, within=scope,
                                             limit=limit - len(page), offset=skip)
        total += n
    return page, total


async def _search(ctx: Context, state: DialogState, query: str, offset: int = 0) -> Result:
    query = visible(query)[:100]  # what the person sees: no zero-width or direction marks
    if not fold(query):  # nothing visible to look for: the question again
        state.step = "find"
        return state, await ask(ctx, state)
    matches, total = await _matches(ctx, query, offset, SEARCH_PAGE)
    if not matches:
        state.step = "find"
        return state, [Outbound(t("households.not_found", query=query[:40]))] + await ask(
            ctx, state)
    if total == 1:
        return await _show_card(ctx, state, matches[0].id)
    state.step = "pick"
    state.draft = _carry(state, choices=[h.id for h in matches], query=query, offset=offset,
                         total=total)
    return state, await ask(ctx, state)


async def _show_card(ctx: Context, state: DialogState, household_id: int,
                     before: list[Outbound] | None = None) -> Result:
    """Show the household (or, when the dialog was opened for it, go straight to a form)."""
    loaded = await _load(ctx, household_id)
    if loaded is None:
        state.step = "find"
        return state, [Outbound(t("households.gone"))] + await ask(ctx, state)
    intent = state.draft.get("intent")
    state.step = "card"
    state.draft = _carry(state, household_id=household_id)
    state.draft.pop("intent", None)
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
    if household.recently_exited(ctx.today):
        lines.append(t("households.card.recently_exited",
                       until=f"{household.recently_exited_until:%d/%m/%Y}"))
    lines.append(t("households.card.flags", flags=", ".join(flags) or t("form.none_selected")))
    assessments = [a for a in await hh.assessments(ctx.conn, household.id)
                   if a.state != "superseded"]
    if assessments:
        last = assessments[-1]
        key = ASSESSMENT_STATES[last.state]
        if last.state == "suggested" and last.suggested_status == household.status:
            key = "households.card.assessment.same"
        lines.append(t(key, year=last.year, status=status_label(last.suggested_status)))
        lines.append(t("households.card.assessment.figures",
                       income=format_money(last.income_per_person),
                       lacking=_lacking(ctx, last)))
    registrations = await hh.registrations_of(ctx.conn, household.id)
    if registrations:
        reg = registrations[-1]
        lines.append(t("households.card.registration", year=reg.target_year,
                       state=t(REGISTRATION_STATES[reg.state])))
        if reg.state_reason and reg.state in ("not_yet", "withdrawn"):
            lines.append(t("households.card.reason", reason=reg.state_reason))
    return "\n".join(lines)


def _lacking(ctx: Context, assessment: hh.Assessment) -> str:
    """«Thiếu 2/12 chỉ số: …» for an assessment, out of its year's standard."""
    try:
        total = len(standard_for(ctx.config.poverty, assessment.year).indicators)
    except NoStandardError:
        total = None
    return lacking_text(assessment.deprived, total)


async def _not_yet(ctx: Context, household: Household) -> hh.Registration | None:
    """The household's registration the commune found "not yet", if that is its latest."""
    registrations = await hh.registrations_of(ctx.conn, household.id)
    last = registrations[-1] if registrations else None
    return last if last is not None and last.state == "not_yet" else None


async def _ask_again(ctx: Context, state: DialogState) -> Result:
    """«Đề nghị xét lại»: a registration found "not yet" waits for the commune again."""
    loaded = await _load(ctx, state.draft["household_id"])
    if loaded is None or not _may_edit(ctx, loaded[1]):
        return None, [menu.main_menu(ctx, t("households.read_only"))]
    household, village = loaded
    registration = await _not_yet(ctx, household)
    if registration is None:
        return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
    await hh.set_registration_state(ctx.conn, registration.id, "under_review", actor=ctx.actor,
                                    at=ctx.now, reason=t("households.rereview_reason"))
    await notices.queue_changed(ctx, village)
    _note_saved(state, "households.saved.rereview", household.code)
    return state, [Outbound(t("households.rereview_done"))] + await ask(ctx, state)


async def _can_register(ctx: Context, household: Household) -> HouseholdError | None:
    """Why this household cannot register to exit now (None: it can)."""
    try:
        await hh.check_can_register(ctx.conn, household)
    except HouseholdError as exc:
        return exc
    return None


# ---- the dialog -----------------------------------------------------------------------------


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    draft = state.draft
    if state.step in household_list.STEPS:  # is the village's list complete?
        return await household_list.ask(ctx, state)
    if state.step == "find":
        key = "households.find_to_register" if draft.get("intent") == "register" else \
            "households.find"
        options = [Option(t("households.option.add"), "add", ("them ho", "them ho moi"))]
        if draft.get("reg_offset"):
            options.append(Option(t("households.option.more_registrations",
                                    n=draft["reg_total"] - draft["reg_offset"]),
                                  "more_registrations", ("xem tiep",)))
        options.append(Option(t("households.option.list"), "list"))  # is the list complete?
        return [Outbound(t(key), tuple(options) + (_cancel(),))]
    if state.step == "pick":
        options = []
        places: dict[int, str] = {}
        for household_id in draft["choices"]:
            household = await hh.get_household(ctx.conn, household_id)
            if household is not None:
                label = f"{household.code} · {household.head_name}"
                if _several_villages(ctx):  # an officer's list spans villages: say which
                    label = t("households.village_in", village=label, commune=await place(
                        ctx, household.village_id, places))
                options.append(Option(label, f"hh:{household.id}"))
        lines = [t("households.pick", n=draft["total"], query=draft["query"])]
        offset, total = draft["offset"], draft["total"]
        rest = total - offset - len(draft["choices"])
        if total > len(draft["choices"]):
            lines.append(t("households.pick_page", first=offset + 1,
                           last=offset + len(draft["choices"]), n=total))
        if rest > 0:
            options.append(Option(t("households.option.more", n=rest), "more", ("xem tiep",)))
        elif offset:
            options.append(Option(t("households.option.first"), "first"))
        return [Outbound("\n".join(lines), tuple(options) + (_cancel(),), free_input=False)]
    if state.step == "pick_village":
        if not draft.get("villages"):
            return [Outbound(t("households.type_village"), (_cancel(),))]
        villages = [a for a in [await areas.get_area(ctx.conn, i) for i in draft["villages"]]
                    if a is not None]
        parents = {a.parent_id for a in villages}
        names = {i: (await areas.get_area(ctx.conn, i)).name for i in parents if i} \
            if len(parents) > 1 else {}
        options = [Option(t("households.village_in", village=a.name, commune=names[a.parent_id])
                          if a.parent_id in names else a.name, f"village:{a.id}")
                   for a in villages]
        return [Outbound(t("households.pick_village"), tuple(options) + (_cancel(),),
                         free_input=False)]
    if state.step == "card":
        loaded = await _load(ctx, draft["household_id"])
        if loaded is None:
            return [Outbound(t("households.gone"),
                             (Option(t("households.option.done"), "cancel"),), free_input=False)]
        household, village = loaded
        options = [Option(t("households.option.done"), "cancel", ("xong", "dong"))]
        if _may_edit(ctx, village):
            register = [] if await _can_register(ctx, household) else [
                Option(t("households.option.register"), "register",
                       ("dang ky", "dang ky thoat ngheo"))]
            if await _not_yet(ctx, household) is not None:
                register = [Option(t("households.option.rereview"), "rereview",
                                   ("xet lai", "de nghi xet lai"))]
            options = [Option(t("households.option.assess"), "assess",
                              ("cap nhat thu nhap", "thu nhap", "chi so", "danh gia")),
                       Option(t("households.option.support"), "support",
                              ("ghi nhan ho tro", "ho tro")),
                       *register,
                       Option(t("households.option.edit"), "edit", ("sua", "sua thong tin")),
                       *options]
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
        if state.step == "form" and state.draft.get("household_id"):  # back to the card
            state.draft.pop("intent", None)
            return await _show_card(ctx, state, state.draft["household_id"],
                                    [Outbound(t("households.form_cancelled"))])
        if state.step == "form":  # a new household: back to the search it was added from
            state.step, state.draft = "find", _carry(state)
            return state, [Outbound(t("households.form_cancelled"))] + await ask(ctx, state)
        return None, [menu.main_menu(ctx, t("households.closed"))]
    step = state.step
    if step in household_list.STEPS:
        return await household_list.answer(ctx, state, reply, back=ask)
    if step == "find":
        if reply.action == "add":
            return await _start_add(ctx, state)
        if reply.action == "list":
            return await household_list.start(ctx, state)
        if reply.action == "more_registrations":
            listing = await registrations_text(ctx, state)
            return state, listing + await ask(ctx, state)
        if not fold(reply.text):
            return state, await ask(ctx, state)
        return await _search(ctx, state, reply.text)
    if step == "pick":
        if reply.action and reply.action.startswith("hh:"):
            return await _show_card(ctx, state, int(reply.action[3:]))
        if reply.action in ("more", "first"):
            offset = state.draft["offset"] + SEARCH_PAGE if reply.action == "more" else 0
            return await _search(ctx, state, state.draft["query"], offset)
        if not fold(reply.text):
            return state, await ask(ctx, state)
        return await _search(ctx, state, reply.text)  # another name or code typed
    if step == "pick_village":
        if reply.action and reply.action.startswith("village:"):
            area = await areas.get_area(ctx.conn, int(reply.action[8:]))
            if area is not None and ctx.person.can_report_for(area):
                return await _open_add_form(ctx, state, area)
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        return await _find_village(ctx, state, reply.text)
    if step == "card":
        if reply.action in ("assess", "support", "register", "edit"):
            return await _open_form(ctx, state, reply.action)
        if reply.action == "rereview":
            return await _ask_again(ctx, state)
        if reply.action is None and plain(reply.text) in ("dang ky", "dang ky thoat ngheo"):
            return await _open_form(ctx, state, "register")  # not offered: it says why
        return state, [Outbound(t("households.choose_action"))] + await ask(ctx, state)
    return await _on_form(ctx, state, reply)


async def _my_villages(ctx: Context) -> dict[int, Area]:
    """The villages this person may add households to."""
    villages: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role == "village_head":
            villages[r.area.id] = r.area
        else:
            for v in await areas.subtree(ctx.conn, r.area, level=ctx.config.report_level):
                villages[v.id] = v
    return villages


async def _start_add(ctx: Context, state: DialogState) -> Result:
    villages = await _my_villages(ctx)
    if not villages:
        return state, [Outbound(t("households.no_village"))] + await ask(ctx, state)
    if len(villages) == 1:
        return await _open_add_form(ctx, state, next(iter(villages.values())))
    state.step = "pick_village"
    if len(villages) > MAX_OPTIONS * 2:  # too many to list: the name is typed instead
        state.draft = _carry(state, villages=[])
    else:
        state.draft = _carry(state, villages=sorted(
            villages, key=lambda i: (name_key(villages[i].name), villages[i].path)))
    return state, await ask(ctx, state)


async def _find_village(ctx: Context, state: DialogState, text: str) -> Result:
    """A village named by typing (an officer with many villages)."""
    query = visible(text)
    if not fold(query):
        return state, await ask(ctx, state)
    found: list[Area] = []
    for scope in _scopes(ctx):  # in the person's areas, so nobody else's fill the list
        found += [a for a in await areas.find_areas(
            ctx.conn, query, within=scope, level=ctx.config.report_level,
            limit=1000) if ctx.person.can_report_for(a)]  # counted, to say how many more
    exact = [a for a in found if fold(a.name) == fold(query)]
    if len(exact) == 1 or len(found) == 1:
        return await _open_add_form(ctx, state, (exact or found)[0])
    if not found:
        return state, [Outbound(t("households.village_not_found", query=query[:40]))] + \
            await ask(ctx, state)
    state.draft = _carry(state, villages=[a.id for a in found[:MAX_OPTIONS]])
    more = len(found) - MAX_OPTIONS
    said = [Outbound(t("households.villages_more", n=more))] if more > 0 else []
    return state, said + await ask(ctx, state)


async def _open_add_form(ctx: Context, state: DialogState, village: Area) -> Result:
    form = {"today": ctx.today.isoformat(),
            "title": t("households.add_title", village=village.name)}
    step = FormEngine(HOUSEHOLD).start(form)
    state.step = "form"
    state.draft = _carry(state, form_kind="add", village_id=village.id, form=step.draft)
    state.draft.pop("intent", None)
    return state, [Outbound(t("households.add_intro", village=village.name))] + step.messages


async def _open_form(ctx: Context, state: DialogState, kind: str) -> Result:
    loaded = await _load(ctx, state.draft["household_id"])
    if loaded is None:
        return None, [menu.main_menu(ctx, t("households.gone"))]
    household, village = loaded
    if not _may_edit(ctx, village):
        return state, [Outbound(t("households.read_only"))] + await ask(ctx, state)
    form = {"today": ctx.today.isoformat(),
            "title": t("households.form_title", code=household.code, name=household.head_name)}
    draft = _carry(state, form_kind=kind, household_id=household.id,
                   village_id=household.village_id)
    if kind == "register":
        refused = await _can_register(ctx, household)
        if refused is not None:  # said at once, before any question (not after five)
            return state, [_error(refused)] + await ask(ctx, state)
        form["bounds"] = {"target_year": [ctx.today.year, ctx.today.year + 5]}
    elif kind == "assess":
        try:
            standard = standard_for(ctx.config.poverty, ctx.today.year)
        except NoStandardError as exc:
            return state, [Outbound(t(exc.key, **exc.params))] + await ask(ctx, state)
        draft["indicators"] = list(standard.indicator_keys)
        previous = [a for a in await hh.assessments(ctx.conn, household.id)
                    if a.state != "superseded"]
        if previous:
            last = previous[-1]
            form["defaults"] = {"income": last.income_per_person,
                                **{f"lacks_{k}": k in last.deprived
                                   for k in standard.indicator_keys}}
            form["hints"] = {f"lacks_{k}": "households.assess.previous_hint"
                             for k in standard.indicator_keys}
    elif kind == "edit":
        form["defaults"] = {f.key: getattr(household, f.key) for f in HOUSEHOLD_EDIT.fields}
        form["hints"] = {f.key: "households.edit.current_hint" for f in HOUSEHOLD_EDIT.fields}
    state.step = "form"
    draft["form"] = form
    step = _engine(draft).start(form)
    draft["form"] = step.draft
    state.draft = draft
    return state, step.messages


async def _code_taken(ctx: Context, draft: dict, reply: Answer) -> Outbound | None:
    """A household code typed that another household of the village already has: refused
    at the code's own question, not after the whole form."""
    form = draft["form"]
    if draft["form_kind"] not in ("add", "edit") or form.get("mode") != "fill" or \
            reply.action is not None:
        return None
    if _spec(draft).fields[form["idx"]].key != "code":
        return None
    code = hh.normalise_code(reply.text)
    other = await hh.household_by_code(ctx.conn, draft["village_id"], code) if code else None
    if other is None or other.id == draft.get("household_id"):
        return None
    return Outbound(t("households.error.code_taken", code=other.code, name=other.head_name))


async def _on_form(ctx: Context, state: DialogState, reply: Answer) -> Result:
    draft = state.draft
    engine = _engine(draft)
    taken = await _code_taken(ctx, draft, reply)
    if taken is not None:
        return state, [taken, engine.ask(draft["form"])]
    step = engine.answer(draft["form"], reply.text, reply.action)
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
        if exc.key == "household.duplicate_code":  # taken meanwhile: ask the code again
            step = engine.answer(draft["form"], "", "fix")
            step = engine.answer(step.draft, "1", None)
            draft["form"] = step.draft
            return state, [_error(exc)] + step.messages
        if draft.get("household_id"):  # nothing in the form can fix it: back to the card
            return await _show_card(ctx, state, draft["household_id"], [_error(exc)])
        return None, [menu.main_menu(ctx, _error(exc).text)]


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
    _note_saved(state, "households.saved.added", household.code)
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
        await notices.queue_changed(ctx, village)
        done = [Outbound(t("households.registered", year=values["target_year"]))]
    else:
        done = [await _save_assessment(ctx, household, village, values)]
    _note_saved(state, SAVED_FORM[kind], household.code)
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
    await notices.queue_changed(ctx, village)  # a new item, or older ones superseded
    key = "households.assessed_same" if result.status == household.status else \
        "households.assessed_change"
    return Outbound("\n".join([explain(result), lacking_text(deprived, len(standard.indicators)),
                               t(key, before=status_label(household.status),
                                 after=status_label(result.status))]))


# ---- /dangky: registrations of my village ------------------------------------------------


async def registrations_start(ctx: Context) -> Result:
    """``/dangky``: the registrations (a page of them), then "which household?" to register
    one."""
    state = DialogState("household", "find", {"intent": "register"})
    listing = await registrations_text(ctx, state)
    return state, listing + await ask(ctx, state)


async def registrations_text(ctx: Context, state: DialogState | None = None
                             ) -> list[Outbound]:
    """The exit registrations a person can see, with their state: a page of them, and how
    many more (``state``'s draft remembers where the next page starts)."""
    offset = state.draft.get("reg_offset", 0) if state is not None else 0
    regs: list = []
    for scope in _scopes(ctx):
        regs += await hh.registrations(ctx.conn, within=scope)
    if not regs:
        return [Outbound(t("households.no_registrations"))]
    shown = regs[offset:offset + REGISTRATIONS_PAGE]
    lines = [t("households.registrations_title", n=len(regs))] if not offset else []
    if len(regs) > REGISTRATIONS_PAGE:
        lines.append(t("households.registrations_page", first=offset + 1,
                       last=offset + len(shown), n=len(regs)))
    places: dict[int, str] = {}
    village_id = None
    for reg in shown:
        if _several_villages(ctx) and reg.village_id != village_id:  # under its village
            village_id = reg.village_id
            lines.append(t("households.registrations_village",
                           village=await place(ctx, reg.village_id, places)))
        lines.append(t("households.registration_line", code=reg.household_code,
                       name=reg.head_name, year=reg.target_year,
                       state=t(REGISTRATION_STATES[reg.state])))
    rest = len(regs) - offset - len(shown)
    if rest > 0:
        lines.append(t("households.registrations_more", n=rest))
    if state is not None:
        state.draft["reg_offset"] = offset + len(shown) if rest > 0 else 0
        state.draft["reg_total"] = len(regs)
    return [Outbound("\n".join(lines))]


# ---- /duyet: officers review suggestions and registrations -------------------------------


REVIEW_PAGE = 10  # items offered at once; "Xem tiếp" shows the next ones
MAX_REASON = 500  # characters of a decision's reason


async def review_start(ctx: Context) -> Result:
    """``/duyet``: the list of what waits, or (nothing waits) the menu: no dialog is left."""
    if not ctx.person.has_role("officer", "admin"):
        return None, [Outbound(t("households.review_officers_only"))]
    state = DialogState("review", "list", {"page": 0, "decided": []})
    if not await _pending(ctx):
        return None, [menu.main_menu(ctx, t("households.review.nothing"))]
    return state, await review_ask(ctx, state)


@dataclass(frozen=True, slots=True)
class Waiting:
    """One item of the review queue: its kind (``reg`` or ``asm``), id and button label."""

    kind: str
    id: int
    label: str


async def _pending(ctx: Context) -> list[Waiting]:
    """Everything that waits for this officer in their areas: the exit registrations (by
    village, then code), then the assessments that would change a status (oldest first)."""
    regs: list[Waiting] = []
    asms: list[Waiting] = []
    seen: set[tuple[str, int]] = set()
    places: dict[int, str] = {}
    for r in ctx.person.roles:
        if r.role not in ("officer", "admin"):
            continue
        for reg in await hh.registrations(ctx.conn, within=r.area, states=WAITING_REGISTRATION):
            if ("reg", reg.id) not in seen:
                seen.add(("reg", reg.id))
                regs.append(Waiting("reg", reg.id, t(
                    "households.review.reg_label", code=reg.household_code, name=reg.head_name,
                    village=await place(ctx, reg.village_id, places), year=reg.target_year)))
        for a, household in await hh.pending_assessments(ctx.conn, within=r.area):
            if a.suggested_status != household.status and ("asm", a.id) not in seen:
                seen.add(("asm", a.id))
                asms.append(Waiting("asm", a.id, t(
                    "households.review.asm_label", code=household.code,
                    name=household.head_name,
                    village=await place(ctx, household.village_id, places),
                    after=status_label(a.suggested_status))))
    return regs + asms


REVIEW_KINDS = ("reg", "asm")
# Message keys per kind, spelled out so the catalogue test sees every one of them.
KIND_COUNT = {"reg": "households.review.count.reg", "asm": "households.review.count.asm"}
KIND_ONLY = {"reg": "households.review.option.only_reg",
             "asm": "households.review.option.only_asm"}


async def review_ask(ctx: Context, state: DialogState) -> list[Outbound]:
    draft = state.draft
    if state.step == "list":
        every = await _pending(ctx)
        if not every:  # decided elsewhere meanwhile (the dialog closes at the next answer)
            return [Outbound(t("households.review.nothing"),
                             (Option(t("households.option.done"), "cancel"),),
                             free_input=False)]
        counts = {k: sum(1 for w in every if w.kind == k) for k in REVIEW_KINDS}
        kind = draft.get("only") if counts.get(draft.get("only") or "") else None
        draft["only"] = kind  # one kind shown («Chỉ xem …»), or None: all
        items = [w for w in every if w.kind == kind] if kind else every
        pages = max(1, -(-len(items) // REVIEW_PAGE))
        page = min(draft.get("page", 0), pages - 1)
        draft["page"] = page
        shown = items[page * REVIEW_PAGE:(page + 1) * REVIEW_PAGE]
        options = [Option(w.label, f"{w.kind}:{w.id}") for w in shown]
        both = all(counts.values())
        if kind:
            text = t("households.review.title_kind", what=t(KIND_COUNT[kind], n=counts[kind]),
                     n=len(every))
        elif both:
            text = t("households.review.title_both", n=len(every),
                     kinds=", ".join(t(KIND_COUNT[k], n=counts[k]) for k in REVIEW_KINDS))
        else:
            text = t("households.review.title", n=len(every))
        if pages > 1:
            first = page * REVIEW_PAGE + 1
            text += "\n" + t("households.review.page", first=first,
                              last=first + len(shown) - 1, n=len(items))
            rest = len(items) - (page + 1) * REVIEW_PAGE
            if rest > 0:
                options.append(Option(t("households.review.option.more", n=rest), "more",
                                      ("xem tiep",)))
            else:
                options.append(Option(t("households.review.option.first"), "first"))
        if both and (kind or pages > 1):  # one tap to each kind, whatever page it starts on
            options += [Option(t(KIND_ONLY[k], n=counts[k]), f"only:{k}")
                        for k in REVIEW_KINDS if k != kind]
            if kind:
                options.append(Option(t("households.review.option.all", n=len(every)),
                                      "only:all", ("xem tat ca",)))
        return [Outbound(text, tuple(options) + (_close(),), free_input=False)]
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
                 village=await place(ctx, reg.village_id, {}), year=reg.target_year,
                 plan=t(plan), plan_text=reg.plan_text or "—",
                 asked=", ".join(asked) or t("form.none_selected"),
                 state=t(REGISTRATION_STATES[reg.state]))
        options = [Option(t("households.review.option.recognise"), "recognised"),
                   Option(t("households.review.option.not_yet"), "not_yet"),
                   Option(t("households.review.option.under_review"), "under_review"),
                   Option(t("households.review.option.withdrawn"), "withdrawn")]
        options = [o for o in options if o.data != reg.state]
        text += "\n" + await _by_whom(ctx, reg.recorded_by, reg.created_at)
    else:
        a = await hh.get_assessment(ctx.conn, draft["id"])
        household = await hh.get_household(ctx.conn, a.household_id)
        text = t("households.review.asm", code=household.code, name=household.head_name,
                 village=await place(ctx, household.village_id, {}),
                 income=format_value(assessment_spec(()).fields[0], a.income_per_person),
                 lacking=_lacking(ctx, a), before=status_label(household.status),
                 after=status_label(a.suggested_status))
        text += "\n" + await _by_whom(ctx, a.assessed_by, a.assessed_at)
        options = [Option(t("households.review.option.recognise"), "recognised"),
                   Option(t("households.review.option.reject"), "rejected")]
    options.append(Option(t("households.review.option.back"), "back", ("quay lai",)))
    return Outbound(text, tuple(options) + (_close(),), free_input=False)


async def _by_whom(ctx: Context, person_id: int | None, at) -> str:
    """«Người ghi: Lò Văn Páo, 03/12/2026 09:15» (the command line when nobody)."""
    person = await people.get_person(ctx.conn, person_id) if person_id else None
    local = at.astimezone(ctx.config.timezone)
    return t("households.review.by", name=person.full_name if person else
             t("households.review.by_system"), at=f"{local:%d/%m/%Y %H:%M}")


async def _still_pending(ctx: Context, kind: str, item_id: int) -> tuple[Area, str] | None:
    """The village and household code of an item that still waits, if this officer's area
    contains it (None: decided meanwhile, superseded, gone or not theirs)."""
    if kind == "reg":
        reg = await hh.get_registration(ctx.conn, item_id)
        if reg is None or reg.state not in WAITING_REGISTRATION:
            return None
        village_id, code = reg.village_id, reg.household_code
    else:
        a = await hh.get_assessment(ctx.conn, item_id)
        household = await hh.get_household(ctx.conn, a.household_id) if a else None
        if household is None or a.state != "suggested" or \
                a.suggested_status == household.status:
            return None
        village_id, code = household.village_id, household.code
    village = await areas.get_area(ctx.conn, village_id)
    return (village, code) if village and ctx.person.can_override_lock(village) else None


def _to_list(state: DialogState) -> DialogState:
    state.step = "list"
    state.draft = {"page": state.draft.get("page", 0), "only": state.draft.get("only"),
                   "decided": state.draft.get("decided", [])}
    return state


async def _list_or_close(ctx: Context, state: DialogState, said: list[Outbound]) -> Result:
    """Back to the list; when nothing is left, the dialog ends with the menu."""
    _to_list(state)
    if not await _pending(ctx):
        return None, said + [menu.main_menu(ctx, t("households.review.all_done"))]
    return state, said + await review_ask(ctx, state)


async def review_answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel" and state.step == "reason":  # this decision only
        return await _list_or_close(ctx, state, [Outbound(t("households.review.not_decided"))])
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("households.closed"))]
    draft = state.draft
    if state.step == "list":
        if reply.action in ("more", "first"):
            draft["page"] = draft.get("page", 0) + 1 if reply.action == "more" else 0
            return state, await review_ask(ctx, state)
        if reply.action in ("only:reg", "only:asm", "only:all"):  # one kind, or all again
            kind = reply.action[5:]
            draft["only"], draft["page"] = (kind if kind in REVIEW_KINDS else None), 0
            return state, await review_ask(ctx, state)
        kind, _, item = (reply.action or "").partition(":")
        if kind in ("reg", "asm") and item.isdigit():
            if await _still_pending(ctx, kind, int(item)):
                state.step = "item"
                draft.update(kind=kind, id=int(item))
                return state, await review_ask(ctx, state)
            return await _list_or_close(ctx, state, [Outbound(t("households.review.already"))])
        if not await _pending(ctx):
            return None, [menu.main_menu(ctx, t("households.review.nothing"))]
        return state, [Outbound(t("households.choose_action"))] + await review_ask(ctx, state)
    if await _still_pending(ctx, draft["kind"], draft["id"]) is None:
        return await _list_or_close(ctx, state, [Outbound(t("households.review.already"))])
    if state.step == "item":
        decision = reply.action
        if decision == "back":
            return await _list_or_close(ctx, state, [])
        if decision in ("not_yet", "withdrawn", "rejected"):
            state.step, draft["decision"] = "reason", decision
            return state, await review_ask(ctx, state)
        if decision in ("recognised", "under_review"):
            return await _decide(ctx, state, decision, "")
        return state, [Outbound(t("households.choose_action"))] + await review_ask(ctx, state)
    reason = "" if reply.action == "skip" else visible(reply.text)
    if not reason and reply.action != "skip":
        return state, await review_ask(ctx, state)
    if len(reason) > MAX_REASON:  # refused, not cut: the officer shortens it
        return state, [Outbound(t("households.review.reason_too_long", max=MAX_REASON,
                                  n=len(reason)))] + await review_ask(ctx, state)
    return await _decide(ctx, state, draft["decision"], reason)


async def _decide(ctx: Context, state: DialogState, decision: str, reason: str) -> Result:
    draft = state.draft
    pending = await _still_pending(ctx, draft["kind"], draft["id"])
    if pending is None:
        return await _list_or_close(ctx, state, [Outbound(t("households.review.already"))])
    village, code = pending
    household = await _household_of(ctx, draft["kind"], draft["id"])
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
    except HouseholdError as exc:
        return await _list_or_close(ctx, state, [_error(exc)])
    if change.already:
        return await _list_or_close(ctx, state, [Outbound(t("households.review.already"))])
    await _tell(ctx, draft, decision, reason, village, household, change)
    await notices.queue_changed(ctx, village)
    draft.setdefault("decided", []).append(t(SAVED_DECISION[decision], code=code))
    return await _list_or_close(ctx, state, [Outbound(t(DECIDED[decision]))])


async def _household_of(ctx: Context, kind: str, item_id: int) -> Household:
    """The household a review item is about, as it is before the decision."""
    if kind == "reg":
        household_id = (await hh.get_registration(ctx.conn, item_id)).household_id
    else:
        household_id = (await hh.get_assessment(ctx.conn, item_id)).household_id
    return await hh.get_household(ctx.conn, household_id)


async def _tell(ctx: Context, draft: dict, decision: str, reason: str, village: Area,
                household: Household, change) -> None:
    """The village head hears of the decision (through the outbox)."""
    status = change.change  # the household's change of status, when the decision made one
    after = status.household if status is not None else household
    proposed = change.assessment.suggested_status if draft["kind"] == "asm" else after.status
    text = notices.decision_text(
        ctx, kind=draft["kind"], decision=decision, village=village, household=household,
        before=household.status, after=proposed, reason=reason,
        recently_exited_until=after.recently_exited_until if status is not None else None)
    if text is not None:
        await notices.tell_heads(ctx, village, f"{draft['kind']}:{draft['id']}:{decision}",
                                 text, household.code)


def review_saved(state: DialogState) -> list[str]:
    """What this review has saved (the decisions taken), for ``/huy``."""
    return list(state.draft.get("decided") or [])


class REVIEW:
    """The ``review`` dialog, for the core's dialog table."""

    ask = staticmethod(review_ask)
    answer = staticmethod(review_answer)
    saved = staticmethod(review_saved)

    @staticmethod
    def OWN_CANCEL(state: DialogState) -> bool:  # noqa: N802 (the core's name for it)
        """At a decision's reason, «huy» typed is its «❌ Hủy»: back to the list, the
        decision not taken. ``/huy`` stops the review, as everywhere."""
        return state.step == "reason"

    @staticmethod
    def PASSIVE(state: DialogState) -> bool:  # noqa: N802 (the core's name for it)
        """Only a reason being typed is work under way; a list or an item is not."""
        return state.step != "reason"
