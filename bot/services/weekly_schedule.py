"""The weekly schedule's time rules: what a member may give as a weekday, hour and time zone, and
when their refresh is next due.

Pure functions of their input (and of the tzdata this machine ships), kept apart from running a
refresh (`weekly_refresh`) so the `/schedule` command's parsing, the time-zone autocomplete
(`bot.choices`) and the error messages (`bot.presenters.errors`) use them without the refresh
service. Times are computed in the member's own time zone (`next_weekly_run`), so 18:00 stays
18:00 across daylight saving. `InvalidSchedule` is also how the refresh service refuses a source
choice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

SHOWN_VALUE_LENGTH = 40  # how much of an unknown zone or weekday `str(InvalidSchedule)` repeats
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class InvalidSchedule(ValueError):
    """A weekday, hour, time zone or source choice a member gave is not valid; `reason` says which
    and what to do. Where the member typed something that names nothing, `value` keeps it as typed
    and `kind` says what it should have named: `describe` quotes it as its caller's `show` renders
    it (the Discord layer escapes it there; services know nothing of Discord's markdown), and
    `str()` quotes it shortened, for logs."""

    def __init__(self, reason: str, *, kind: str = "", value: str | None = None) -> None:
        self.reason = reason
        self.kind = kind
        self.value = value
        super().__init__(self.describe(_shortened))

    def describe(self, show: Callable[[str], str]) -> str:
        """The message, the member's value (if any) quoted as `show` renders it."""
        if self.value is None:
            return self.reason
        return f"unknown {self.kind} '{show(self.value)}': {self.reason}"


def _shortened(typed: str) -> str:
    """At most SHOWN_VALUE_LENGTH characters of what a member typed, for `str(InvalidSchedule)`."""
    return typed if len(typed) <= SHOWN_VALUE_LENGTH else typed[:SHOWN_VALUE_LENGTH] + "…"


def parse_weekday(value: str | int) -> int:
    if isinstance(value, int):
        if 0 <= value <= 6:
            return value
        raise InvalidSchedule("weekday must be 0 (Monday) to 6 (Sunday)")
    text = value.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise InvalidSchedule(f"use one of {', '.join(w.title() for w in WEEKDAYS)}", kind="weekday", value=value)


@functools.cache
def known_timezones() -> frozenset[str]:
    """Every IANA time zone name tzdata ships, read once: the directory walk behind
    `available_timezones()` takes 20-90 ms, too long for every keystroke on the event loop."""
    return frozenset(available_timezones())


def parse_timezone(name: str) -> ZoneInfo:
    """A known zone's ZoneInfo; anything else (a typo, a 5,000-character string, a path) is refused
    before it reaches the file system."""
    text = name.strip()
    if text in known_timezones():
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise InvalidSchedule(
        "use an IANA name like Europe/Berlin or America/New_York", kind="time zone", value=text
    )


def next_weekly_run(weekday: int, hour: int, timezone: str, after: datetime) -> datetime:
    """The first `weekday` at `hour`:00 local time strictly after `after`, in UTC."""
    zone = _zone_for(hour, timezone)
    local_after = after.astimezone(zone)
    candidate_date = local_after.date() + timedelta(days=(weekday - local_after.weekday()) % 7)
    for extra_weeks in range(3):
        candidate = _local_hour(candidate_date + timedelta(weeks=extra_weeks), hour, zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a later week always exists")


def weekly_run_before(weekday: int, hour: int, timezone: str, before: datetime) -> datetime:
    """The last `weekday` at `hour`:00 local time strictly before `before`, in UTC: the weekly time
    a refresh due next at `before` belongs to. Not `before` minus a week, which is an hour off
    when the clocks changed in between."""
    zone = _zone_for(hour, timezone)
    local_before = before.astimezone(zone)
    candidate_date = local_before.date() - timedelta(days=(local_before.weekday() - weekday) % 7)
    for extra_weeks in range(3):
        candidate = _local_hour(candidate_date - timedelta(weeks=extra_weeks), hour, zone)
        if candidate < before:
            return candidate
    raise AssertionError("unreachable: an earlier week always exists")


def _zone_for(hour: int, timezone: str) -> ZoneInfo:
    if not 0 <= hour <= 23:
        raise InvalidSchedule("hour must be between 0 and 23")
    return parse_timezone(timezone)


def _local_hour(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """`hour`:00 local time on `day`, in UTC (an hour the clocks skip is the hour after; one they
    repeat, the first)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
