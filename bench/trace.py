"""A tracer for the core benchmark: what happened while the slowest messages waited.

    python -m bench.core --trace /tmp/trace.jsonl

records time-stamped spans during the open loop (``perf_counter`` seconds):

- ``msg``: each message, from its scheduled send to ``core.handle`` returning, with the time
  it waited for the write lock and held it, and its trips to the database threads;
- ``txn``: each write transaction, from asking for the write lock to releasing it;
- ``trip``: each call queued to an aiosqlite thread (writer, reader, checkpointer): queued,
  started and ended in the thread, resumed on the event loop; checkpoints with their mode
  and their result (busy, pages in the log, pages checkpointed);
- ``gc``: each garbage collection (``gc.callbacks``), with its generation;
- ``lag``: the event loop late by more than 1 ms for a 1 ms ticker;
- ``wal``: the size of the write-ahead log file every 50 ms.

It wraps methods of the benchmark's own ``Database`` and aiosqlite's ``Connection._execute``
(the one door to the database thread in the pinned version), for the benchmark process only.
Spans are kept in ``array('d')`` columns, not in Python objects, so that the tracer adds
nothing the garbage collector would count or traverse (the pauses it is there to see).
At the end it prints a summary: what overlapped the slowest 1 % of messages.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import os
import time
from array import array
from contextlib import asynccontextmanager

import aiosqlite

from storage.db import Database

_message: contextvars.ContextVar[int] = contextvars.ContextVar("message", default=-1)
_txn: contextvars.ContextVar[int] = contextvars.ContextVar("txn", default=-1)


class Columns:
    """A table of float columns, one ``array('d')`` each."""

    def __init__(self, *names: str):
        self.names = names
        self.columns = {name: array("d") for name in names}

    def add(self, *values: float) -> int:
        for name, value in zip(self.names, values, strict=True):
            self.columns[name].append(value)
        return len(self) - 1

    def __len__(self) -> int:
        return len(self.columns[self.names[0]])

    def rows(self) -> list[dict]:
        cols = [self.columns[n] for n in self.names]
        return [dict(zip(self.names, values, strict=True)) for values in zip(*cols, strict=True)]


CONNECTIONS = ("writer", "reader", "checkpointer", "other")


class Tracer:
    def __init__(self, db: Database):
        self.db = db
        self.active = False
        self.msgs = Columns("scheduled", "begun", "done", "lock_wait", "lock_held", "trips")
        self.txns = Columns("msg", "asked", "got", "released", "trips")
        self.trips = Columns("conn", "what", "msg", "queued", "started", "ended", "resumed")
        self.stmts = Columns("what", "msg", "start", "end")  # the writer's, on the loop
        self.gcs = Columns("start", "end", "generation", "collected")
        self.lags = Columns("start", "end")
        self.wal = Columns("at", "bytes")
        self.checkpoints: dict[int, tuple] = {}  # trip index -> (busy, log, checkpointed)
        self.whats: dict[str, int] = {}
        self._gc_start = 0.0
        self._tasks: list[asyncio.Task] = []
        self._undo: list = []

    # ---- installing ------------------------------------------------------------------------

    def install(self) -> None:
        db, tracer = self.db, self
        names = {id(db._writer): 0, id(db._reader): 1}
        if db._checkpointer is not None:
            names[id(db._checkpointer)] = 2
        original_execute = aiosqlite.Connection._execute
        trips = self.trips.columns

        async def _execute(conn, fn, *args, **kwargs):
            if not tracer.active:
                return await original_execute(conn, fn, *args, **kwargs)
            what = _describe(fn, args)
            code = tracer.whats.setdefault(what, len(tracer.whats))
            msg = _message.get()
            index = tracer.trips.add(names.get(id(conn), 3), code, msg, time.perf_counter(),
                                     0.0, 0.0, 0.0)

            def timed(*a, **k):
                trips["started"][index] = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    trips["ended"][index] = time.perf_counter()

            try:
                result = await original_execute(conn, timed, *args, **kwargs)
            finally:
                trips["resumed"][index] = time.perf_counter()
                if msg >= 0:
                    tracer.msgs.columns["trips"][msg] += 1
                txn = _txn.get()
                if txn >= 0:
                    tracer.txns.columns["trips"][txn] += 1
            if "wal_checkpoint" in what and result:
                tracer.checkpoints[index] = tuple(result[0])
            return result

        aiosqlite.Connection._execute = _execute
        self._undo.append(lambda: setattr(aiosqlite.Connection, "_execute", original_execute))

        # The write connection's statements, run on the event loop's thread.
        writer = db._writer
        original_run, original_commit = writer._run, writer.commit
        stmts = self.stmts

        async def run(fn, *args):
            what = _describe(fn, args)
            code = tracer.whats.setdefault(what, len(tracer.whats))
            started = time.perf_counter()
            try:
                return await original_run(fn, *args)
            finally:
                if tracer.active:
                    stmts.add(code, _message.get(), started, time.perf_counter())

        async def commit():
            code = tracer.whats.setdefault("commit", len(tracer.whats))
            started = time.perf_counter()
            try:
                return await original_commit()
            finally:
                if tracer.active:
                    stmts.add(code, _message.get(), started, time.perf_counter())

        writer._run, writer.commit = run, commit
        self._undo.append(lambda: (delattr(writer, "_run"), delattr(writer, "commit")))

        original_opening = db.write_opening
        txns = self.txns.columns
        msgs = self.msgs.columns

        @asynccontextmanager
        async def write_opening(*opening):
            if not tracer.active:
                async with original_opening(*opening) as value:
                    yield value
                return
            msg = _message.get()
            now = time.perf_counter()
            index = tracer.txns.add(msg, now, now, now, 0)
            token = _txn.set(index)
            try:
                async with original_opening(*opening) as value:
                    yield value
            finally:
                txns["released"][index] = released = time.perf_counter()
                _txn.reset(token)
                if msg >= 0:
                    msgs["lock_wait"][msg] += txns["got"][index] - txns["asked"][index]
                    msgs["lock_held"][msg] += released - txns["got"][index]

        db.write_opening = write_opening
        self._undo.append(lambda: delattr(db, "write_opening"))

        original_acquire = db._lock.acquire

        async def acquire():
            result = await original_acquire()
            txn = _txn.get()
            if txn >= 0:
                txns["got"][txn] = time.perf_counter()
            return result

        db._lock.acquire = acquire
        self._undo.append(lambda: delattr(db._lock, "acquire"))

        gc.callbacks.append(self._on_gc)
        self._undo.append(lambda: gc.callbacks.remove(self._on_gc))

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self.active:
            self.gcs.add(self._gc_start, time.perf_counter(), info["generation"],
                         info["collected"])

    def start(self) -> None:
        self.active = True
        self._tasks = [asyncio.create_task(self._ticker()),
                       asyncio.create_task(self._wal_watch())]

    async def stop(self) -> None:
        self.active = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for undo in reversed(self._undo):
            undo()

    async def _ticker(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            after = time.perf_counter()
            if after - before > 0.002:
                self.lags.add(before + 0.001, after)

    async def _wal_watch(self) -> None:
        wal = self.db.path + "-wal"
        while True:
            try:
                size = os.stat(wal).st_size
            except OSError:
                size = -1
            self.wal.add(time.perf_counter(), size)
            await asyncio.sleep(0.05)

    # ---- messages --------------------------------------------------------------------------

    def begin_message(self, scheduled: float) -> int:
        index = self.msgs.add(scheduled, time.perf_counter(), 0.0, 0.0, 0.0, 0)
        _message.set(index)
        return index

    def end_message(self, index: int, done: float) -> None:
        self.msgs.columns["done"][index] = done

    # ---- output ----------------------------------------------------------------------------

    def events(self) -> list[dict]:
        whats = {code: what for what, code in self.whats.items()}
        out: list[dict] = []
        for i, row in enumerate(self.msgs.rows()):
            if row["done"]:
                out.append({"kind": "msg", "id": i, **row})
        out += [{"kind": "txn", **row} for row in self.txns.rows()]
        for i, row in enumerate(self.trips.rows()):
            row["conn"] = CONNECTIONS[int(row["conn"])]
            row["what"] = whats[int(row["what"])]
            if i in self.checkpoints:
                row["result"] = list(self.checkpoints[i])
            out.append({"kind": "trip", **row})
        for row in self.stmts.rows():
            row["what"] = whats[int(row["what"])]
            out.append({"kind": "stmt", **row})
        out += [{"kind": "gc", **row} for row in self.gcs.rows()]
        out += [{"kind": "lag", **row} for row in self.lags.rows()]
        out += [{"kind": "wal", **row} for row in self.wal.rows()]
        return out

    def write(self, path: str, events: list[dict]) -> None:
        with open(path, "w") as out:
            for event in events:
                out.write(json.dumps(event) + "\n")


def _describe(fn, args) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    func = getattr(fn, "func", None)
    if func is not None:  # functools.partial
        name = getattr(func, "__name__", str(func))
        args = fn.args + tuple(args)
    sql = next((a for a in args if isinstance(a, str)), "")
    return f"{name} {' '.join(sql.split())[:60]}".strip()


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def summarise(events: list[dict], share: float = 0.01, show: int = 15) -> str:
    """The trace's figures, and what overlapped the slowest ``share`` of messages."""
    by_kind: dict[str, list[dict]] = {}
    for e in events:
        by_kind.setdefault(e["kind"], []).append(e)
    messages = by_kind.get("msg", [])
    if not messages:
        return "trace: no messages"
    messages.sort(key=lambda m: m["done"] - m["scheduled"], reverse=True)
    slow = messages[:max(1, round(len(messages) * share))]
    gcs, lags = by_kind.get("gc", []), by_kind.get("lag", [])
    trips, txns = by_kind.get("trip", []), by_kind.get("txn", [])
    checkpoints = [t for t in trips if "wal_checkpoint" in t["what"]]
    writer_trips = [t for t in trips if t["conn"] == "writer"]
    lines = [f"trace: {len(messages)} messages, {len(txns)} write transactions,"
             f" {len(trips)} database trips, {len(gcs)} collections,"
             f" {len(checkpoints)} checkpoints"]
    counts = [m["trips"] for m in messages]
    lines.append(f"  trips per message: mean {sum(counts) / len(counts):.2f}, max"
                 f" {max(counts):.0f}")
    for part, a, b in (("queue wait", "queued", "started"), ("in thread", "started", "ended"),
                       ("back to loop", "ended", "resumed")):
        values = [t[b] - t[a] for t in writer_trips]
        if values:
            lines.append(f"  writer trips, {part}: p50 {_pct(values, .5) * 1e3:.3f} ms, p99"
                         f" {_pct(values, .99) * 1e3:.3f} ms, max {max(values) * 1e3:.2f} ms")
    stmts = by_kind.get("stmt", [])
    if stmts:
        values = [x["end"] - x["start"] for x in stmts]
        longest = max(stmts, key=lambda x: x["end"] - x["start"])
        lines.append(f"  writer statements on the loop: {len(stmts) / len(messages):.2f} per"
                     f" message, p50 {_pct(values, .5) * 1e3:.3f} ms, p99"
                     f" {_pct(values, .99) * 1e3:.3f} ms, max {max(values) * 1e3:.2f} ms"
                     f" ({longest['what'][:40]})")
    holds = [t["released"] - t["got"] for t in txns]
    waits = [m["lock_wait"] for m in messages]
    lines.append(f"  write lock held: p50 {_pct(holds, .5) * 1e3:.3f} ms, p99"
                 f" {_pct(holds, .99) * 1e3:.3f} ms, max {max(holds) * 1e3:.2f} ms;"
                 f" waited for: p99 {_pct(waits, .99) * 1e3:.2f} ms")
    for gen in (0, 1, 2):
        pauses = [g["end"] - g["start"] for g in gcs if g["generation"] == gen]
        if pauses:
            lines.append(f"  gc generation {gen}: {len(pauses)} collections, max"
                         f" {max(pauses) * 1e3:.2f} ms, total {sum(pauses) * 1e3:.1f} ms")
    if checkpoints:
        longest = max(checkpoints, key=lambda c: c["ended"] - c["started"])
        lines.append(f"  checkpoints: longest {(longest['ended'] - longest['started']) * 1e3:.1f}"
                     f" ms ({longest['what'].split()[-1]}, busy/log/done"
                     f" {longest.get('result')})")
    if lags:
        lines.append(f"  event loop late > 1 ms: {len(lags)} times, at most"
                     f" {max(x['end'] - x['start'] for x in lags) * 1e3:.1f} ms")
    wal = [w["bytes"] for w in by_kind.get("wal", [])]
    if wal:
        lines.append(f"  WAL file: at most {max(wal) / 4096:.0f} pages of 4 KiB")
    lines.append(f"  slowest {len(slow)} messages (latency: lock wait, lock held, trips; what"
                 " overlapped):")
    for m in slow[:show]:
        a, b = m["scheduled"], m["done"]
        gc_ms = sum(_overlap(a, b, g["start"], g["end"]) for g in gcs) * 1e3
        lag_ms = max((_overlap(a, b, x["start"], x["end"]) for x in lags), default=0) * 1e3
        cps = [f"{c['what'].split()[-1]} {1e3 * (c['ended'] - c['started']):.0f} ms"
               for c in checkpoints if _overlap(a, b, c["started"], c["ended"])]
        worst = max((t for t in writer_trips if _overlap(a, b, t["queued"], t["resumed"])),
                    key=lambda t: t["resumed"] - t["queued"], default=None)
        text = (f"    {1e3 * (b - a):6.1f} ms: wait {1e3 * m['lock_wait']:5.1f}, held"
                f" {1e3 * m['lock_held']:4.1f}, {m['trips']:.0f} trips; gc {gc_ms:.1f} ms,"
                f" loop late {lag_ms:.1f} ms")
        if cps:
            text += "; " + ", ".join(cps)
        slowest = max((x for x in stmts if _overlap(a, b, x["start"], x["end"])),
                      key=lambda x: x["end"] - x["start"], default=None)
        if slowest is not None and slowest["end"] - slowest["start"] > 0.001:
            text += (f"; statement {1e3 * (slowest['end'] - slowest['start']):.1f} ms"
                     f" {slowest['what'][:30]}")
        if worst is not None:
            text += (f"; slowest writer trip {1e3 * (worst['resumed'] - worst['queued']):.1f}"
                     f" ms (queue {1e3 * (worst['started'] - worst['queued']):.1f}, thread"
                     f" {1e3 * (worst['ended'] - worst['started']):.1f}, back"
                     f" {1e3 * (worst['resumed'] - worst['ended']):.1f}) {worst['what'][:30]}")
        lines.append(text)
    return "\n".join(lines)
