"""When a weekly refresh is due, in the member's own time zone.

Pure time arithmetic, kept apart so the scheduler, `/schedule` and tests agree on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class InvalidSchedule(ValueError):
    """A weekday, hour or time zone a member gave is not valid; the message says which."""


def parse_weekday(value: str | int) -> int:
    if isinstance(value, int):
        if 0 <= value <= 6:
            return value
        raise InvalidSchedule("weekday must be 0 (Monday) to 6 (Sunday)")
    text = value.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            return index
    raise InvalidSchedule(f"unknown weekday {value!r}: use one of {', '.join(w.title() for w in WEEKDAYS)}")


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError):
        raise InvalidSchedule(
            f"unknown time zone {name!r}: use an IANA name like Europe/Berlin or America/New_York"
        ) from None


def timezone_suggestions(prefix: str, limit: int = 25) -> list[str]:
    text = prefix.strip().lower()
    names = sorted(available_timezones())
    return [n for n in names if text in n.lower()][:limit]


def next_weekly_run(weekday: int, hour: int, timezone: str, after: datetime) -> datetime:
    """The first `weekday` at `hour`:00 local time strictly after `after`, in UTC."""
    if not 0 <= hour <= 23:
        raise InvalidSchedule("hour must be between 0 and 23")
    zone = parse_timezone(timezone)
    local_after = after.astimezone(zone)
    days_ahead = (weekday - local_after.weekday()) % 7
    candidate_date = local_after.date() + timedelta(days=days_ahead)
    for extra_weeks in range(3):
        naive = datetime(candidate_date.year, candidate_date.month, candidate_date.day, hour) + timedelta(
            weeks=extra_weeks
        )
        candidate = naive.replace(tzinfo=zone).astimezone(UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a later week always exists")
