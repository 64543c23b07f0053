"""The areas the configuration names (``[[calendar.overrides]]``, ``[[targets.areas]]``),
found in the database at start-up, and which calendar governs an area.

An override or a target names its area by official code or exact name; one that matches no
area, or several, stops the start-up with a ConfigError naming the setting (the settings
themselves are checked earlier, in ``common.config``, which cannot see the database).
"""

from __future__ import annotations

from common.config import Calendar, Config, ConfigError
from reports.calendar import calendars
from storage import areas as area_store
from storage.areas import Area


async def configured_area(conn, text: str, setting: str) -> Area:
    """The area a setting names by official code or exact name; ConfigError naming the
    setting when it matches none or several."""
    found = await area_store.areas_by_code(conn, text)
    if not found:
        found = [a for a in await area_store.find_areas(conn, text, limit=5)
                 if a.name.casefold() == text.casefold()]
    if len(found) != 1:
        problem = "matches no area" if not found else "matches several areas"
        raise ConfigError(f"setting {setting}.area: {text!r} {problem}; give the area's "
                          "official code or exact name")
    return found[0]


async def override_paths(conn, config: Config) -> list[str | None]:
    """The area path of each calendar (None for the default one, index 0); ConfigError
    naming the setting when an override's area is unknown or ambiguous."""
    paths: list[str | None] = [None]
    for override in config.calendar.overrides:
        paths.append((await configured_area(conn, override.area, override.setting)).path)
    return paths


def governing(area: Area, paths: list[str | None]) -> int:
    """The index of the calendar that governs ``area``: the deepest override containing it."""
    best, depth = 0, -1
    for index, path in enumerate(paths):
        if path is not None and area.path.startswith(path) and len(path) > depth:
            best, depth = index, len(path)
    return best


async def calendar_of_area(conn, config: Config, area: Area) -> Calendar:
    """The calendar that applies to ``area`` (for ``/lich``)."""
    return calendars(config.calendar)[governing(area, await override_paths(conn, config))]
