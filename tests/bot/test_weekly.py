"""Weekly refresh times in a member's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.services.weekly import InvalidSchedule, next_weekly_run, parse_timezone, parse_weekday


def test_next_run_is_the_coming_weekday_at_the_local_hour() -> None:
    # Tuesday 2026-11-24 10:00 UTC; Friday 18:00 in Berlin (UTC+1 in winter) is 17:00 UTC.
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert next_weekly_run(4, 18, "Europe/Berlin", now) == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_same_day_after_the_hour_rolls_to_next_week() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday
    assert next_weekly_run(1, 9, "UTC", now) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_daylight_saving_change_keeps_the_local_hour() -> None:
    # New York leaves DST on 2026-11-01: Sunday 09:00 local is 13:00 UTC before, 14:00 UTC after.
    before = datetime(2026, 10, 26, tzinfo=UTC)
    assert next_weekly_run(6, 9, "America/New_York", before) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_bad_weekday_hour_and_zone_are_refused_with_a_reason() -> None:
    assert parse_weekday("fri") == 4 and parse_weekday("Sunday") == 6
    with pytest.raises(InvalidSchedule, match="weekday"):
        parse_weekday("someday")
    with pytest.raises(InvalidSchedule, match="time zone"):
        parse_timezone("Mars/Olympus_Mons")
    with pytest.raises(InvalidSchedule, match="hour"):
        next_weekly_run(0, 24, "UTC", datetime(2026, 1, 1, tzinfo=UTC))
