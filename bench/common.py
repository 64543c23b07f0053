"""What the benchmarks share: a province of villages and village heads, and a virtual head.

``build_province`` creates 1 province, communes of 20 villages, one village head per village
(person, messenger identity, role) and last month's report of every village, all in one
transaction through the storage functions (so the audit log looks like production's).

``VirtualHead`` chats through the core exactly as a person does: it sends a message, waits for
the reply, checks that the reply is the one expected at this step, and only then sends the next
message (button presses send back the option data of the latest reply). Every dialog files a
complete monthly report: typed numbers, one-tap buttons, the one-line form for some heads, a
warning confirmed for a few. Any unexpected reply is recorded and stops that head; a benchmark
that silently measures error messages would be worthless.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from common.catalogue import t
from common.messages import Inbound, Outbound
from common.numbers import format_count, format_money
from handlers.core import Core
from handlers.forms.engine import COUNT, MONEY
from handlers.forms.monthly import FIELDS
from storage import areas, people
from storage.areas import Area
from storage.audit import Actor
from storage.db import Database
from storage.reports import MONTHLY_FORM, report_versions, save_report

# 09:00 on 5 November 2026 in Vietnam: inside the reporting window of October 2026.
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
PERIOD = "2026-10"  # the month every head files
PERIOD_LABEL = "10/2026"
PREVIOUS = "2026-09"  # seeded for every village, so "Giữ nguyên" and the checks are live
PREVIOUS_AT = datetime(2026, 10, 3, 1, 30, tzinfo=UTC)
CHANNEL = "bench"
VILLAGES_PER_COMMUNE = 20
SETUP = Actor(None, "bench:setup")

KEYS = tuple(f.key for f in FIELDS)  # total … support_vnd, note
LABELS = {f.key: t(f"form.monthly_village.{f.key}.label") for f in FIELDS}

NOTES = (
    "Mô hình nuôi gà thả vườn hiệu quả",
    "Cần hỗ trợ giống ngô vụ đông",
    "Đường vào bản sạt lở, đi lại khó khăn",
    "Đã họp dân bình xét hộ nghèo",
    "Đề nghị thêm vốn vay làm nhà",
)
# Amounts of money as people type them, with their value.
MONEY_TYPED = (
    ("5tr", 5_000_000), ("1.500.000", 1_500_000), ("150k", 150_000), ("1tr5", 1_500_000),
    ("2 triệu", 2_000_000), ("800000", 800_000), ("12,5tr", 12_500_000),
)
ONE_LINE_MONEY = tuple(m for m in MONEY_TYPED if " " not in m[0])  # one token in a line


class FixedClock:
    """Always ``NOW``: every run sees the same reporting window and the same default month."""

    def __call__(self) -> datetime:
        return NOW


@dataclass(frozen=True)
class HeadSpec:
    """One village head as created in the database."""

    index: int
    person_id: int
    sender: str
    village: Area
    previous: dict  # last month's (PREVIOUS) report


def _previous_report(rng: random.Random) -> dict:
    """Last month's figures, with room for the small moves the heads make this month.

    The margins keep every blocking check satisfied after a move of at most 2 per count.
    """
    total = rng.randint(40, 400)
    poor = rng.randint(5, max(5, total // 4))
    near = rng.randint(1, max(1, (total - poor) // 5))
    em = rng.randint(0, poor - 5)
    loans = rng.randint(0, poor + near - 6) if poor + near >= 6 else 0
    return {"total": total, "poor": poor, "near_poor": near, "exited": rng.choice((0, 0, 1)),
            "newly_poor": 0, "fallen_back": 0, "em_poor": em, "loans": loans,
            "support_vnd": rng.choice((0, 1_000_000, 3_000_000)), "note": ""}


async def build_province(db: Database, heads: int, *, seed: int = 1) -> list[HeadSpec]:
    """1 province, ceil(heads/20) communes of up to 20 villages, one head per village."""
    rng = random.Random(seed)
    specs: list[HeadSpec] = []
    at = NOW
    async with db.write() as conn:
        province = await areas.add_area(conn, parent=None, level="province",
                                        name="Tỉnh Thử Nghiệm", code="99", actor=SETUP, at=at)
        commune = None
        for i in range(heads):
            c, v = divmod(i, VILLAGES_PER_COMMUNE)
            if v == 0:
                commune = await areas.add_area(
                    conn, parent=province, level="commune", name=f"Xã Số {c + 1}",
                    code=f"9{c:04d}", actor=SETUP, at=at)
            village = await areas.add_area(conn, parent=commune, level="village",
                                           name=f"Thôn {c + 1}-{v + 1}", actor=SETUP, at=at)
            sender = str(100_000 + i)
            name = f"Trưởng thôn {i + 1}"
            pid = await people.create_person(conn, name, actor=SETUP, at=at)
            await people.link_identity(conn, pid, channel=CHANNEL, external_id=sender,
                                       chat_id=sender, display_name=name, actor=SETUP, at=at)
            await people.grant_role(conn, pid, "village_head", village, actor=SETUP, at=at)
            previous = _previous_report(rng)
            await save_report(conn, area_id=village.id, form=MONTHLY_FORM, period=PREVIOUS,
                              data=previous, actor=Actor(pid, f"{CHANNEL}:{sender}"),
                              via=CHANNEL, at=PREVIOUS_AT)
            specs.append(HeadSpec(i, pid, sender, village, previous))
    return specs


# ---- the virtual village head -----------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One message of a dialog and what its reply must contain."""

    kind: str  # "text" (typed) or "press" (the option whose action is ``payload``)
    payload: str
    expect: tuple[str, ...]
    what: str  # for error reports


@dataclass
class Failure:
    sender: str
    dialog: int
    what: str
    sent: str
    missing: str
    reply: str

    def __str__(self) -> str:
        reply = self.reply.replace("\n", " | ")
        if len(reply) > 300:
            reply = reply[:300] + "…"
        return (f"head {self.sender} dialog {self.dialog} step {self.what!r}: sent {self.sent!r},"
                f" expected {self.missing!r}, got: {reply!r}")


def _shown(key: str, value) -> str:
    if value is None or value == "":
        return t("form.empty_value")
    kind = FIELDS[KEYS.index(key)].kind
    if kind == COUNT:
        return format_count(value)
    if kind == MONEY:
        return format_money(value)
    return str(value)


@dataclass
class VirtualHead:
    """A village head who files October's report again and again, checking every reply."""

    core: Core
    spec: HeadSpec
    seed: int = 0
    filed: list[dict] = field(default_factory=list)  # every report saved, in order
    sent: int = 0
    failure: Failure | None = None
    client_s: float = 0.0  # time spent planning and checking (the benchmark's own cost)
    mix: Counter = field(default_factory=Counter)  # dialogs and messages by kind
    _plan: deque = field(default_factory=deque)
    _values: dict | None = None
    _last: list[Outbound] = field(default_factory=list)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed * 1_000_003 + self.spec.index)

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def in_dialog(self) -> bool:
        return bool(self._plan)

    async def step(self) -> float | None:
        """Send the next message, check the reply; the time ``core.handle`` returned.

        None when no message could be sent (the head has failed).
        """
        if self.failed:
            return None
        started = time.perf_counter()
        if not self._plan:
            self._plan_dialog()
        current = self._plan[0]
        message_id = f"{self.spec.sender}:{self.sent + 1}"
        sender = self.spec.sender
        if current.kind == "press":
            data = self._option(current.payload)
            if data is None:
                self._fail(current, f"a button {current.payload!r}", self._text())
                return None
            inbound = Inbound(CHANNEL, sender, sender, message_id, option=data, kind="option")
        else:
            inbound = Inbound(CHANNEL, sender, sender, message_id, text=current.payload)
        self.sent += 1
        self.mix[current.kind] += 1
        self.client_s += time.perf_counter() - started
        replies = await self.core.handle(inbound)
        done = time.perf_counter()
        self._last = replies
        text = self._text()
        for expected in current.expect:
            if expected not in text:
                self._fail(current, expected, text)
                break
        else:
            self._plan.popleft()
            if not self._plan:  # "Đã lưu …": the report is filed
                self.filed.append(self._values)
        self.client_s += time.perf_counter() - done
        return done

    # ---- helpers ------------------------------------------------------------------------

    def _text(self) -> str:
        return "\n".join(m.text for m in self._last)

    def _option(self, action: str) -> str | None:
        for message in reversed(self._last):
            for option in message.options:
                if option.data.partition(".")[2] == action:
                    return option.data
        return None

    def _fail(self, step: Step, missing: str, reply: str) -> None:
        sent = step.payload if step.kind == "text" else f"[button {step.payload}]"
        self.failure = Failure(self.spec.sender, len(self.filed) + 1, step.what, sent,
                               missing, reply)

    # ---- planning a dialog ----------------------------------------------------------------

    def _targets(self, defaults: dict) -> tuple[dict, bool]:
        """This month's figures: close to last month's, so only chosen warnings fire."""
        rng, prev = self._rng, self.spec.previous
        values: dict = {}

        def near(key: str) -> int:
            default = defaults.get(key)
            if default is not None and abs(default - prev[key]) <= 2 and rng.random() < 0.6:
                return default  # unchanged: "Giữ nguyên" applies
            return max(0, prev[key] + rng.randint(-2, 2))

        warn = rng.random() < 0.05
        values["total"] = prev["total"] + max(10, prev["total"] // 2) if warn else near("total")
        exited = 0 if rng.random() < 0.6 else rng.randint(1, 2)
        newly = 0 if rng.random() < 0.7 else 1
        fallen = 0 if rng.random() < 0.85 else 1
        values["poor"] = prev["poor"] - exited + newly + fallen  # balances with last month
        values["near_poor"] = near("near_poor")
        values["exited"], values["newly_poor"], values["fallen_back"] = exited, newly, fallen
        values["em_poor"] = near("em_poor")
        values["loans"] = near("loans")
        return values, warn

    def _plan_dialog(self) -> None:
        rng = self._rng
        version = len(self.filed) + 1
        defaults = self.filed[-1] if self.filed else self.spec.previous
        values, warn = self._targets(defaults)
        one_line = not warn and rng.random() < 0.25  # "/baocao 120 15 8 2 1 0 3 10 5tr"
        typed_money, money = "0", 0
        if rng.random() < 0.6:
            typed_money, money = rng.choice(ONE_LINE_MONEY if one_line else MONEY_TYPED)
        values["support_vnd"] = money
        note = rng.choice(NOTES) if rng.random() < 0.3 else ""
        values["note"] = note
        self._values = values
        village = self.spec.village.name
        intro = [f"tháng {PERIOD_LABEL}", village]
        if version > 1:
            intro.append(f"phiên bản {version - 1}")
        summary = tuple(
            f"{i}. {LABELS[k]}: {_shown(k, values[k])}" for i, k in enumerate(KEYS, start=1)
        ) + (t("form.summary_confirm"),)
        saved = (t("report.saved", period=PERIOD_LABEL, area=village, version=version),)
        plan: deque[Step] = deque()
        self.mix["one-line dialogs" if one_line else "guided dialogs"] += 1
        self.mix["dialogs with a warning confirmed"] += warn

        if one_line:
            figures = [str(values[k]) for k in KEYS[:8]] + [typed_money]
            line = "/baocao " + " ".join(figures) + (f" {note}" if note else "")
            plan.append(Step("text", line, tuple(intro) + summary, "one-line /baocao"))
        else:
            start = rng.choice(("/baocao", "/baocao", "bao cao", "Báo cáo"))
            hint = "report.hint_filed" if version > 1 else "form.default_hint"  # filed: kept
            first = (f"(1/{len(KEYS)}) {t('form.monthly_village.total.prompt')}",
                     t(hint, value=format_count(defaults["total"])))
            plan.append(Step("text", start, tuple(intro) + first, "start"))
            for i, f in enumerate(FIELDS[:-1]):
                value = values[f.key]
                following = f"({i + 2}/{len(KEYS)})"
                if i == 0 and warn:
                    before = self.spec.previous["total"]
                    warning = t("form.monthly_village.check.change_total", before=before,
                                now=value, percent=f"{round(100 * (value - before) / before):+d}")
                    plan.append(Step("text", str(value), (warning, "có chắc"), "total (warns)"))
                    plan.append(Step("press", "warn_ok", (following,), "confirm warning"))
                    continue
                r = rng.random()
                if f.default == "previous" and value == defaults.get(f.key) and r < 0.7:
                    how = ("press", "keep") if r < 0.55 else ("text", "giu nguyen")
                elif f.default == "zero" and value == 0 and r < 0.7:
                    how = ("press", "zero") if r < 0.5 else ("text", rng.choice(("0", "không")))
                elif f.kind == MONEY:
                    how = ("text", typed_money)
                else:
                    how = ("text", format_count(value) if r < 0.5 else str(value))
                plan.append(Step(how[0], how[1], (following,), f.key))
            if note:
                plan.append(Step("text", note, summary, "note"))
            else:
                how = ("press", "skip") if rng.random() < 0.8 else ("text", "bq")
                plan.append(Step(how[0], how[1], summary, "note skipped"))
        how = ("press", "send") if rng.random() < 0.8 else ("text", rng.choice(("gui", "Gửi")))
        plan.append(Step(how[0], how[1], saved, "send"))
        self._plan = plan


# ---- verification -------------------------------------------------------------------------


async def verify_saved(db: Database, heads: list[VirtualHead]) -> tuple[int, list[str]]:
    """Check every report the heads filed is in the database, version by version.

    Returns (reports verified, problems).
    """
    problems: list[str] = []
    verified = 0
    async with db.read() as conn:
        for head in heads:
            versions = await report_versions(conn, head.spec.village.id, MONTHLY_FORM, PERIOD)
            versions.sort(key=lambda v: v.version)
            if [v.version for v in versions] != list(range(1, len(head.filed) + 1)):
                problems.append(f"head {head.spec.sender}: filed {len(head.filed)} reports,"
                                f" database has versions {[v.version for v in versions]}")
                continue
            pairs = zip(versions, head.filed, strict=True)
            for number, (saved, wanted) in enumerate(pairs, start=1):
                if saved.data != wanted or saved.submitted_by != head.spec.person_id:
                    problems.append(f"head {head.spec.sender} version {number}: saved"
                                    f" {saved.data}, filed {wanted}")
                else:
                    verified += 1
        async with conn.execute(
            "SELECT count(*) FROM report_versions v JOIN reports r ON r.id = v.report_id"
            " WHERE r.period = ?", (PERIOD,)
        ) as cur:
            (total,) = await cur.fetchone()
    filed = sum(len(h.filed) for h in heads)
    if total != filed:
        problems.append(f"database holds {total} report versions for {PERIOD},"
                        f" heads filed {filed}")
    return verified, problems
