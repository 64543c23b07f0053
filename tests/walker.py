"""A person who tries everything: reads ``/help``, opens every command it lists, presses every
button and chooses every numbered option the replies offer, answers forms to their end, and
notes every fault a person would notice (tests/test_walkthrough.py, tests/test_hostile_input.py).

Nothing here knows today's commands or menus. The walk starts from what ``/help`` says (its
commands, with their ``[địa bàn]``/``[kỳ]`` arguments filled in from the person's own areas and
the examples the help gives) and from the keywords it says may be typed; from there it goes
breadth-first through whatever the replies offer, with a budget. To try each option of a
question it puts the person back at that question (the dialog row in ``storage.dialogs``, as a
restart mid-dialog would), so every branch starts from the same place.

A free-text question is answered with the first of a few plausible answers (taken from the
question's words and the database: a household code, an area name, a year…) that moves the
dialog on; each warning is confirmed; so forms reach their summary and are sent.

What counts as a fault (``Finding.problem``):
  * ``internal``: a reply about «sự cố hệ thống», or an ERROR logged while handling a message;
  * ``nowhere``: an option just offered, or a command ``/help`` lists, answered «Tôi chưa
    hiểu», «Nút này đã cũ», «Lệnh này không có», or not answered at all;
  * ``open``: a dialog still open after a reply that asks nothing (nothing to choose, no
    question), so that the next command is refused as "busy";
  * ``text``: a reply that is no sentence: empty, an unfilled ``{placeholder}``, ``None``,
    ``nan``, a Python error;
  * ``file``: a chart that is no PNG, a spreadsheet that openpyxl cannot open;
  * ``typed``: typing an option's words (as on Zalo or the console) does something else than
    pressing it;
  * ``data``: a stored row that breaks a rule of the forms (checked by the caller).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import time
import zipfile
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from common.catalogue import t
from common.messages import Inbound, Outbound
from common.text import fold, plain
from handlers.core import _own_cancel
from storage import areas
from storage.db import Database
from storage.dialogs import MENU, DialogState, clear_dialog, load_dialog, save_dialog

# Replies that say an option or a command led nowhere.
NOWHERE = tuple(t(k).split(".")[0] for k in ("core.not_understood", "core.stale_button",
                                              "core.unknown_command"))
INTERNAL = "sự cố"
BUSY = t("core.busy").split(".")[0]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_BAD_WORDS = re.compile(r"\b(None|nan|NaN|inf|Traceback|Exception|Error)\b")
_NUMBERED = re.compile(r"^(\d+)\. (.+)$")
_SHORTCUTS = re.compile(r"^(\[[^\]]+\] ?)+$")
_HELP_COMMAND = re.compile(r"(?<![\w/])(/[a-z][a-z0-9]*)((?: (?:\[[^\]]+\]|[^\s—,;()\[\]]+))*)")
_PERIOD_EXAMPLES = re.compile(r"\(kỳ: ([^)]*)\)")
_KEYWORD_EXAMPLES = re.compile(r"ví dụ: ([^.\n]+)")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Reply:
    """One message the person received, as they see it."""

    text: str
    options: tuple[tuple[str, str], ...] = ()  # (label, button data or the text to type)
    image: bytes | None = None
    document: bytes | None = None
    typed: bool = False  # options are chosen by typing (Zalo, the console), not pressing


@dataclass(frozen=True)
class Finding:
    problem: str  # internal | nowhere | open | text | file
    path: tuple[str, ...]  # what the person sent, from the start
    reply: str  # what the bot answered (shortened)
    dialog: str = ""  # the dialog and step the person was in before sending
    detail: str = ""

    def __str__(self) -> str:
        where = " → ".join(self.path)
        return (f"[{self.problem}] {where}\n    in {self.dialog or '—'}: {self.detail}\n"
                f"    reply: {self.reply[:300]!r}")


@dataclass
class Node:
    """A question the person was asked: how they got there and the dialog row to restore."""

    path: tuple[str, ...]
    state: DialogState | None
    replies: list[Reply]


class ErrorLog(logging.Handler):
    """Collects records of level ERROR and above while the walk runs."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        out, self.records = self.records, []
        return out


# ---- drivers: how a message reaches the bot -------------------------------------------------


class CoreDriver:
    """A person chatting through ``Core.handle`` (the channel-neutral core). ``typed``: they
    choose options by typing, as on Zalo or the console — ``number``: the number of a numbered
    list, the label of a shortcut (bot.channels.plain); ``label``: the option's words without
    diacritics or emoji, up to a colon or bracket («bao cao ngay», «giu nguyen»)."""

    def __init__(self, core, channel: str, sender: str, name: str = "", *,
                 typed: str = ""):
        self.core, self.channel, self.sender, self.name = core, channel, sender, name
        self.typed = typed

    async def send(self, text: str) -> list[Reply]:
        inbound = Inbound(self.channel, self.sender, self.sender, f"w{next(_ids)}", text=text,
                          display_name=self.name)
        return [self._reply(o) for o in await self.core.handle(inbound)]

    async def choose(self, option: tuple[str, str], typed: bool) -> list[Reply]:
        if typed:
            return await self.send(option[1])
        inbound = Inbound(self.channel, self.sender, self.sender, f"w{next(_ids)}",
                          option=option[1], kind="option")
        return [self._reply(o) for o in await self.core.handle(inbound)]

    def _reply(self, o: Outbound) -> Reply:
        if self.typed != "number":  # "label": the walker types the words and compares
            return Reply(o.text, tuple((x.label, x.data) for x in o.options), o.image,
                         o.document)
        options = tuple((x.label, x.label if o.free_input else str(n))
                        for n, x in enumerate(o.options, start=1))
        return Reply(o.text, options, o.image, o.document, typed=True)


def spoken(label: str) -> str:
    """An option's words as someone types them: no emoji, no diacritics, nothing after a
    colon or an opening bracket (``📝 Báo cáo ngay: Báo cáo năm`` → ``bao cao ngay``); a label
    that is all figures stays whole."""
    words = plain(re.split(r"[:(]", label)[0])
    words = re.sub(r"[^\w\s/.,-]", "", words).strip()
    return words or plain(label)


def parse_plain(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The options written at the end of a plain-text message (bot.channels.plain): a
    numbered list is chosen by its number, one line of ``[shortcuts]`` by the label."""
    lines = text.rstrip("\n").split("\n")
    if lines and _SHORTCUTS.match(lines[-1].strip()):
        labels = re.findall(r"\[([^\]]+)\]", lines[-1])
        return "\n".join(lines[:-1]), tuple((label, label) for label in labels)
    numbered = []
    while lines and (m := _NUMBERED.match(lines[-1].strip())):
        numbered.insert(0, (m.group(2), m.group(1)))
        lines.pop()
    if numbered and [int(n) for _, n in numbered] == list(range(1, len(numbered) + 1)):
        return "\n".join(lines), tuple(numbered)
    return text, ()


# ---- what counts as a fault -------------------------------------------------------------------


def text_problems(reply: Reply) -> list[str]:
    """Why a reply does not read as a sentence (empty list when it does)."""
    problems = []
    if not reply.text.strip() and reply.image is None and reply.document is None:
        problems.append("empty reply")
    if _PLACEHOLDER.search(reply.text):
        problems.append("unfilled placeholder")
    if _BAD_WORDS.search(reply.text):
        problems.append("a programmer's word (None, nan, Error…)")
    if reply.image is not None and not reply.image.startswith(b"\x89PNG\r\n\x1a\n"):
        problems.append("the image is no PNG")
    return problems


_checked_files: dict[int, str | None] = {}


def document_problem(data: bytes) -> str | None:
    """Why an attached spreadsheet cannot be opened (None when it opens)."""
    key = hash(data)
    if key not in _checked_files:
        from openpyxl import load_workbook

        try:
            with zipfile.ZipFile(io.BytesIO(data)):
                pass
            load_workbook(io.BytesIO(data), read_only=True).close()
            _checked_files[key] = None
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            _checked_files[key] = f"the spreadsheet does not open: {exc}"
    return _checked_files[key]


def asks_something(reply: Reply) -> bool:
    """The reply offers a choice or asks for an answer."""
    if reply.options:
        return True
    text = reply.text.strip()
    folded = fold(text)
    return text.endswith(("?", ":")) or any(
        w in folded for w in ("vui long go", "hay go", "vui long nhap", "hay chon", "go ten",
                              "go ma", "go so", "tra loi"))


# ---- the walk ---------------------------------------------------------------------------------


@dataclass
class Walk:
    findings: list[Finding] = field(default_factory=list)
    steps: int = 0
    nodes: list[Node] = field(default_factory=list)  # every question reached
    starts: list[str] = field(default_factory=list)
    sent: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # (path, reply)
    timings: list[tuple[float, tuple[str, ...]]] = field(default_factory=list)

    def problems(self, kind: str | None = None) -> list[Finding]:
        return [f for f in self.findings if kind is None or f.problem == kind]


def _strip_digits(text: str) -> str:
    return re.sub(r"\d[\d.,:/]*", "#", text)


def _draft_marks(draft: dict) -> tuple:
    """What tells one question of a dialog from another: idx and mode, also of a nested form."""
    marks = [draft.get("idx"), draft.get("mode")]
    form = draft.get("form")
    if isinstance(form, dict):
        marks += [draft.get("form_kind"), form.get("idx"), form.get("mode")]
    return tuple(marks)


def node_shape(state: DialogState | None, replies: list[Reply]) -> tuple:
    """A question whatever its figures and names: the same menu for another area or period."""
    asked = next((r for r in reversed(replies) if r.options), None)
    labels = tuple(_strip_digits(label) for label, _ in (asked.options if asked else ()))
    if state is None:
        return (None, labels)
    return (state.dialog, state.step, _draft_marks(state.draft), labels)


def node_key(state: DialogState | None, replies: list[Reply]) -> tuple:
    asked = next((r for r in reversed(replies) if r.options), None)
    labels = tuple(_strip_digits(label) for label, _ in (asked.options if asked else ()))
    head = _strip_digits(asked.text.split("\n")[0]) if asked else ""
    if state is None or state.dialog == MENU:  # a menu is the same menu whatever it follows
        return (None, labels)
    return (state.dialog, state.step, _draft_marks(state.draft), labels, head)


class Walker:
    """Walks one person through everything the bot offers them."""

    def __init__(self, driver, db: Database, errors: ErrorLog, *, budget: int = 400,
                 per_start: int = 80, per_shape: int = 4,
                 answers: Callable[[str], Awaitable[list[str]]] | None = None,
                 after_step: Callable[[], Awaitable[list[str]]] | None = None):
        self.driver, self.db, self.errors = driver, db, errors
        self.budget, self.per_start = budget, per_start
        self.answers = answers or (lambda prompt: _no_answers())
        self.after_step = after_step  # extra checks (database invariants): problems found
        self.per_shape = per_shape  # the same question for this many areas or periods
        self.walk = Walk()
        self.seen: set[tuple] = set()
        self.shapes: dict[tuple, int] = {}

    # ---- the dialog row ----------------------------------------------------------------------

    async def state(self) -> DialogState | None:
        async with self.db.read() as conn:
            return await load_dialog(conn, self.driver.channel, self.driver.sender)

    async def restore(self, state: DialogState | None) -> None:
        async with self.db.write() as conn:
            if state is None:
                await clear_dialog(conn, self.driver.channel, self.driver.sender)
            else:
                await save_dialog(conn, self.driver.channel, self.driver.sender,
                                  DialogState(state.dialog, state.step,
                                              json.loads(json.dumps(state.draft))),
                                  _now())

    # ---- one message -------------------------------------------------------------------------

    async def step(self, path: tuple[str, ...], before: DialogState | None, action,
                   *, offered: bool) -> tuple[list[Reply], DialogState | None]:
        """Send one message (``action`` is a coroutine factory), check what came back."""
        self.walk.steps += 1
        self.errors.take()
        began = time.perf_counter()
        replies = await action()
        self.walk.timings.append((time.perf_counter() - began, path))
        after = await self.state()
        where = f"{before.dialog}/{before.step}" if before else ""
        text = "\n".join(r.text for r in replies)
        self.walk.sent.append((path, text))

        def note(problem: str, detail: str) -> None:
            self.walk.findings.append(Finding(problem, path, text, where, detail))

        for record in self.errors.take():
            note("internal", f"logged {record.levelname}: {record.getMessage()}"
                 + (f" ({record.exc_info[1]!r})" if record.exc_info else ""))
        if INTERNAL in text:
            note("internal", "the reply speaks of a system fault")
        if not replies:
            note("nowhere", "no reply at all")
        elif offered and any(text.startswith(n) or f"\n{n}" in text for n in NOWHERE):
            note("nowhere", "an offered option or a listed command is not understood")
        for reply in replies:
            for problem in text_problems(reply):
                note("text", problem)
            if reply.document is not None and (problem := document_problem(reply.document)):
                note("file", problem)
        if after is not None and after.dialog != MENU and not any(map(asks_something,
                                                                        replies)):
            note("open", f"the dialog {after.dialog}/{after.step} stays open after a reply "
                 "that asks nothing")
        if self.after_step is not None:
            for problem in await self.after_step():
                note("data", problem)
        return replies, after

    # ---- the breadth-first walk --------------------------------------------------------------

    async def run(self, starts: list[str]) -> Walk:
        self.walk.starts = list(starts)
        for start in starts:
            if self.walk.steps >= self.budget:
                break
            await self._explore_from(start)
        return self.walk

    async def _explore_from(self, start: str) -> None:
        await self.restore(None)
        limit = min(self.walk.steps + self.per_start, self.budget)
        replies, state = await self.step((start,), None,
                                         lambda: self.driver.send(start), offered=True)
        root = Node((start,), state, replies)
        if not self._remember(root):
            return  # the same question as one already explored
        queue = deque([root] + await self._straight_on(root, limit))
        while queue and self.walk.steps < limit:
            node = queue.popleft()
            self.walk.nodes.append(node)
            for child in await self._children(node, limit):
                if self._remember(child):
                    queue.append(child)
                    if _enters_dialog(node.state, child.state):
                        queue.extend(await self._straight_on(child, limit))
        for node in queue:  # out of budget: a later start may explore these
            self.seen.discard(node_key(node.state, node.replies))
            self.shapes[node_shape(node.state, node.replies)] -= 1

    async def _straight_on(self, node: Node, limit: int) -> list[Node]:
        """Go straight to the end of the dialog first, as someone who knows what they want:
        the option that goes on (keep, skip, send, confirm…), else a plausible typed answer.
        Returns the questions passed, so that their other options are tried afterwards."""
        passed: list[Node] = []
        while self.walk.steps < limit and len(passed) < 40:
            if node.state is None or node.state.dialog == MENU:
                break
            asked = next((r for r in reversed(node.replies) if r.options), None)
            choice = forward_option(asked.options) if asked else None
            child = None
            if choice is not None:
                await self.restore(node.state)
                path = node.path + (f"[{choice[0]}]",)
                replies, state = await self.step(
                    path, node.state,
                    lambda c=choice, a=asked: self.driver.choose(c, a.typed), offered=True)
                child = Node(path, state, replies)
            else:
                child = await self._typed_child(node, limit)
            if child is None or not self._remember(child):
                break
            passed.append(child)
            node = child
        return passed

    async def _type_instead(self, node: Node, label: str, pressed: DialogState | None,
                            replies: list[Reply]) -> None:
        """Type the option's words (``spoken``) instead of pressing it: the same must happen."""
        words = spoken(label)
        if words in CANCEL_WORDS and not (node.state and node.state.dialog != MENU
                                          and _own_cancel(node.state)):
            return  # by design (handlers/router.py) they cancel it all, except in a sub-form

        await self.restore(node.state)
        path = node.path + (words,)
        typed, state = await self.step(path, node.state, lambda: self.driver.send(words),
                                       offered=True)
        if _outcome(pressed, replies) != _outcome(state, typed):
            self.walk.findings.append(Finding(
                "typed", path, "\n".join(r.text for r in typed),
                f"{node.state.dialog}/{node.state.step}" if node.state else "",
                f"typing «{words}» does not do what the option «{label}» does: "
                f"{_first_line(replies)!r}"))

    async def _typed_child(self, node: Node, limit: int) -> Node | None:
        """The first plausible typed answer that moves the dialog on."""
        if not self._free(node):
            return None
        prompt = "\n".join(r.text for r in node.replies)
        for answer in await self.answers(prompt):
            if self.walk.steps >= limit:
                break
            await self.restore(node.state)
            path = node.path + (answer,)
            replies, state = await self.step(path, node.state,
                                             lambda answer=answer: self.driver.send(answer),
                                             offered=False)
            if _moved(node.state, state):
                return Node(path, state, replies)
        return None

    @staticmethod
    def _free(node: Node) -> bool:
        """The question may be answered by typing (and the dialog asks something at all)."""
        return node.state is not None and node.state.dialog != MENU and (
            (node.state.draft.get("_ask") or {}).get("free", True)) and any(
            map(asks_something, node.replies))

    def _remember(self, node: Node) -> bool:
        """True for a question not met before (nor met for ``per_shape`` other areas)."""
        key = node_key(node.state, node.replies)
        if key in self.seen:
            return False
        self.seen.add(key)
        shape = node_shape(node.state, node.replies)
        self.shapes[shape] = self.shapes.get(shape, 0) + 1
        return self.shapes[shape] <= self.per_shape

    async def _children(self, node: Node, limit: int) -> list[Node]:
        asked = next((r for r in reversed(node.replies) if r.options), None)
        children = []
        if asked is not None:
            for label, how in asked.options:
                if self.walk.steps >= limit:
                    return children
                await self.restore(node.state)
                path = node.path + (f"[{label}]",)
                replies, state = await self.step(
                    path, node.state,
                    lambda how=how, label=label: self.driver.choose((label, how), asked.typed),
                    offered=True)
                children.append(Node(path, state, replies))
                if getattr(self.driver, "typed", "") == "label":
                    await self._type_instead(node, label, state, replies)
        if self.walk.steps < limit:
            child = await self._typed_child(node, limit)
            if child is not None:
                children.append(child)
        return children


CANCEL_WORDS = ("huy", "huy bo", "thoat")
# Options that go on with what is under way, and those that turn back (folded words).
FORWARD = ("giu nguyen", "khong co", "bo qua", "hom nay", "xong", "gui", "van gui", "dung",
           "dong y", "tiep")
BACK = ("huy", "sua", "nhap lai", "doi thang", "quay lai", "xoa", "khong")


def forward_option(options) -> tuple[str, str] | None:
    """The option someone who wants to get to the end picks: one that goes on, else the
    first that does not turn back; None when only turning back is offered."""
    folded = [(fold(label), (label, how)) for label, how in options]
    for word in FORWARD:
        for text, option in folded:
            if word in text and not any(b in text.split() for b in ("huy",)):
                return option
    for text, option in folded:
        if not any(b in text for b in BACK):
            return option
    return None


def _first_line(replies: list[Reply]) -> str:
    return next((r.text.split("\n")[0] for r in replies if r.text.strip()), "")


def _outcome(state: DialogState | None, replies: list[Reply]) -> tuple:
    """What an answer led to: the dialog question it reached and its first words (any end of
    the dialog is the same end)."""
    if state is None or state.dialog == MENU:
        return (None,)
    return (state.dialog, state.step, _draft_marks(state.draft),
            _strip_digits(_first_line(replies)))


def _enters_dialog(before: DialogState | None, after: DialogState | None) -> bool:
    """``after`` is a dialog that ``before`` was not in (a form just opened)."""
    if after is None or after.dialog == MENU:
        return False
    return before is None or before.dialog != after.dialog


def _moved(before: DialogState | None, after: DialogState | None) -> bool:
    """The answer moved the dialog on (or ended it)."""
    if before is None or after is None:
        return before is not after
    strip = lambda d: {k: v for k, v in d.items() if k != "_ask"}  # noqa: E731
    return (before.dialog, before.step, strip(before.draft)) != (after.dialog, after.step,
                                                                  strip(after.draft))


async def _no_answers() -> list[str]:
    return []


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


# ---- where the walk starts: what /help says -----------------------------------------------------


def help_starts(help_text: str, fill: dict[str, list[str]]) -> list[str]:
    """Every command ``/help`` shows, with its placeholders filled in, then the keywords it says
    may be typed without the slash.

    ``fill`` maps a placeholder's folded words (``dia ban``, ``ten thon``, ``ten xa``) to the
    names to try; ``[kỳ]`` takes the examples the help gives in ``(kỳ: …)``, and every
    optional ``[…]`` is also tried left out.
    """
    periods = []
    for m in _PERIOD_EXAMPLES.finditer(help_text):
        periods += [p.strip(" …") for p in m.group(1).split(",") if p.strip(" …")]
    starts: list[str] = []
    for line in help_text.split("\n"):
        for m in _HELP_COMMAND.finditer(line):
            command, args = m.group(1), m.group(2).strip()
            for filled in _fill(args, fill, periods):
                text = f"{command} {filled}".strip()
                if text not in starts:
                    starts.append(text)
        for m in _KEYWORD_EXAMPLES.finditer(line):
            if "/" in m.group(1):
                continue
            for word in m.group(1).split(","):
                if word.strip() and word.strip() not in starts:
                    starts.append(word.strip())
    return starts


def _fill(args: str, fill: dict[str, list[str]], periods: list[str]) -> list[str]:
    """The argument strings to try for ``args`` as written in the help."""
    parts = re.findall(r"\[[^\]]+\]|[^\s\[\]]+(?: [^\s\[\]]+)*", args)
    variants = [""]
    for part in parts:
        if part.startswith("["):
            words = plain(part.strip("[]"))
            if words in ("ky",):
                names = periods
            else:
                names = next((v for k, v in fill.items() if k in words), [])
            # an optional part: left out, or each of its values (not every combination: only
            # the variant that left out every earlier part takes the values, listed last)
            variants = variants + [f"{variants[0]} {name}".strip() for name in names]
        else:
            key = next((k for k in fill if k == plain(part)), None)
            if key is not None:
                variants = [f"{v} {name}".strip() for v in variants for name in fill[key]]
            else:
                variants = [f"{v} {part}".strip() for v in variants]
    return variants


async def scope_names(db: Database, person) -> dict[str, list[str]]:
    """Names of areas to fill the help's placeholders with: a village, a commune and the
    province the person can see."""
    villages, communes, provinces = [], [], []
    async with db.read() as conn:
        for role in person.roles:
            tops = [role.area] + await areas.ancestors(conn, role.area)
            for area in tops + await areas.subtree(conn, role.area):
                if not person.can_see(area):
                    continue
                bucket = {"village": villages, "commune": communes,
                          "province": provinces}.get(area.level)
                if bucket is not None and area.name not in bucket:
                    bucket.append(area.name)
    every = villages[:1] + communes[:1] + provinces[:1]
    return {"dia ban": every, "ten thon": villages[:1] or ["Bản Không Có"],
            "ten xa": communes[:1] or ["Xã Không Có"]}
