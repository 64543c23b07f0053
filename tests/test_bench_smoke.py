"""The core benchmark runs end to end in quick mode (a few heads, about a second).

No timing is asserted: this only proves the benchmark still drives complete, checked dialogs
through the core and prints its result line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_core_quick_run_files_every_report():
    heads = 4
    done = subprocess.run(
        [sys.executable, "-m", "bench.core", "--quick", "--heads", str(heads)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) > 1  # human-readable lines come first
    result = json.loads(lines[-1])
    assert set(result) == {"messages_per_s", "p50_ms", "p99_ms", "dialogs"}
    assert result["dialogs"] == heads
    assert result["messages_per_s"] > 0
    assert result["p50_ms"] is not None and result["p99_ms"] >= result["p50_ms"]


def test_bench_households_quick_run_checks_its_figures():
    done = subprocess.run(
        [sys.executable, "-m", "bench.households", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("verified: all 120 households") for line in lines)
    assert any(line.startswith("prefill figures of Thôn 1") for line in lines)
    result = json.loads(lines[-1])
    assert set(result) == {"import_rows_per_s", "classify_per_s", "prefill_ms"}
    assert result["import_rows_per_s"] > 0 and result["prefill_ms"] > 0
    assert result["classify_per_s"] is None or result["classify_per_s"] > 0


def test_bench_reminders_quick_run_survives_its_crash():
    done = subprocess.run(
        [sys.executable, "-m", "bench.reminders", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("dispatcher process killed after 30 messages") for line in lines)
    result = json.loads(lines[-1])
    assert set(result) == {"recipients", "rate_ratio", "duplicates", "missing", "seconds"}
    assert result["recipients"] == 60 and result["missing"] == 0
    assert result["rate_ratio"] > 0


def test_bench_stats_quick_run_draws_and_files():
    done = subprocess.run(
        [sys.executable, "-m", "bench.stats", "--quick", "--workers", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("province summary: ") for line in lines)
    assert any(" officers each opened /thongke and drew a chart " in line for line in lines)
    result = json.loads(lines[-1])
    assert set(result) == {"province_summary_p95_ms", "commune_summary_p95_ms", "chart_p50_ms",
                           "dialog_p99_ms_during_charts"}
    assert all(value > 0 for value in result.values())


def test_bench_zalo_quick_run_files_every_report_through_the_webhook():
    done = subprocess.run(
        [sys.executable, "-m", "bench.zalo", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("verified: 6 monthly reports saved as typed") for line in lines)
    result = json.loads(lines[-1])
    assert set(result) == {"events_per_s", "p99_ms"}
    assert result["events_per_s"] > 0 and result["p99_ms"] > 0


def test_bench_faults_quick_run_measures_every_figure():
    """The real process, both fake messengers, every fault: the figures come out (their
    goals are the benchmark's business; the announcement's are met here)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.faults", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("the officer's announcement to 40 people is confirmed")
               for line in lines)
    result = json.loads(lines[-1])
    assert {"delivered_once", "duplicates", "missing", "stall_s", "misfiled_fields",
            "officer_alerts"} <= set(result)
    assert result["recipients"] == 40 and result["delivered_once"] == 36  # 4 blocked
    assert result["duplicates"] == result["missing"] == result["leaked_after_429"] == 0
    assert result["officer_alerts"] == 1
