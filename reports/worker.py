"""The start of a worker process of ``reports.charts.ChartRenderer``'s pool (charts and
spreadsheets).

Apart from ``reports.charts`` on purpose: a spawned worker unpickles its initializer before it
runs it, which imports the initializer's module. This one imports nothing heavy, so the worker
ignores SIGINT within milliseconds of its start, not after the second it takes to import
matplotlib: Ctrl-C in a terminal reaches the whole process group, and each worker would print
a ``KeyboardInterrupt`` traceback. The bot's own process handles Ctrl-C and shuts the pool
down (``ChartRenderer.close``); a worker ends when its pool does.
"""

from __future__ import annotations

import os
import signal

# Worker processes run at this niceness: drawing and building take whatever CPU the bot
# leaves, so a burst of charts or a big spreadsheet on a small machine never slows a village
# head's dialog (19 is the lowest).
WORKER_NICENESS = 15


def init_worker() -> None:
    """Ignore SIGINT, yield the CPU to the bot's own process, then load what charts draw
    with (``reports.charts.warm_up``) and spreadsheets are built with (openpyxl, imported
    by ``reports.charts``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICENESS)  # a burst of charts must not starve the event loop
        except OSError:
            pass
    from reports import charts

    charts.warm_up()
