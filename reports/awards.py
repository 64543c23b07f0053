"""Targets and award criteria (DOMAIN §5), as data, and their evaluation.

Targets are written as "giảm X %/năm": the poverty rate falls X **percentage points** a year.
Areas of ethnic minorities and mountain areas (flagged in the configuration) aim to fall
``ethnic_minority_factor`` (1.5) times as fast. A target is configured for an area and holds
for everything under it unless a deeper area has its own.

Award criteria (Bình Thuận's plan, the one seed that spells them out): an area qualifies when
its poverty rate fell at least ``points_per_year`` (4) points in each of
``consecutive_years`` (3) consecutive years (``points`` rule; for ethnic-minority areas the
points are multiplied by the factor, as their target is), or when its poor + near-poor
households fell by more than ``halved_share`` (50 %) from the baseline (``halved`` rule).
Which rules a level is judged by is configuration: districts by both, communes and villages
by the second (DOMAIN §5). The settings (``[targets]``, ``[awards]``) are models in
``common.config``. This module is pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from common.config import AreaTarget, AwardRule, AwardsConfig, TargetsConfig

RULES = get_args(AwardRule)  # the settings' names of the rules
POINTS, HALVED = RULES


@dataclass(frozen=True, slots=True)
class Target:
    """The target that applies to one area."""

    points_per_year: float
    ethnic_minority: bool

    def effective(self, factor: float) -> float:
        """Points a year this area should fall (the ethnic-minority rule applied)."""
        return self.points_per_year * (factor if self.ethnic_minority else 1.0)


def target_for(path: str, targets: TargetsConfig, resolved: dict[str, tuple[str, AreaTarget]]
               ) -> Target:
    """The target of the area at ``path``: the deepest configured area containing it sets the
    points (when it gives them) and the flag; the default otherwise. ``resolved`` maps each
    configured entry's setting to (area path, entry)."""
    points, flag = targets.points_per_year, False
    points_depth = flag_depth = -1
    for area_path, entry in resolved.values():
        if not path.startswith(area_path):
            continue
        depth = len(area_path)
        if entry.points_per_year is not None and depth > points_depth:
            points, points_depth = entry.points_per_year, depth
        if depth > flag_depth:
            flag, flag_depth = entry.ethnic_minority, depth
    return Target(points, flag)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An area that meets an award rule, with the figures that qualify it."""

    name: str
    rule: str
    # points rule: (year, points fallen) for each of the consecutive years, and the threshold
    years: tuple[tuple[int, float], ...] = ()
    threshold: float = 0.0
    # halved rule: poor + near-poor at the baseline and now, and the fall in percent
    baseline: int = 0
    now: int = 0
    fall_percent: float = 0.0


def points_rule(name: str, reductions: dict[int, float | None], last_year: int,
                cfg: AwardsConfig, factor: float) -> Candidate | None:
    """Fell at least the threshold in each of the ``consecutive_years`` years up to
    ``last_year``; ``reductions`` maps a year to the points the rate fell in it."""
    threshold = cfg.points_per_year * factor
    years = [last_year - i for i in range(cfg.consecutive_years - 1, -1, -1)]
    values = [reductions.get(y) for y in years]
    if any(v is None or v < threshold - 1e-9 for v in values):
        return None
    return Candidate(name, POINTS, years=tuple(zip(years, values, strict=True)),
                     threshold=threshold)


def halved_rule(name: str, baseline: int | None, now: int | None,
                cfg: AwardsConfig) -> Candidate | None:
    """Poor + near-poor households fell by more than ``halved_share`` from the baseline."""
    if not baseline or now is None:
        return None
    fall = (baseline - now) / baseline
    if fall <= cfg.halved_share + 1e-12:
        return None
    return Candidate(name, HALVED, baseline=baseline, now=now, fall_percent=100.0 * fall)
