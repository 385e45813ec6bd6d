"""The weekly schedule's time rules: when a refresh is next due in a member's own time zone, and
the weekday, hour and time zone a member may give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.weekly_schedule import (
    InvalidSchedule,
    next_weekly_run,
    parse_timezone,
    parse_weekday,
    weekly_run_before,
)


def test_next_run_is_the_coming_weekday_at_the_local_hour() -> None:
    """Friday 18:00 in Berlin, asked on a Tuesday, is that Friday at 17:00 UTC."""
    # Tuesday 2026-11-24 10:00 UTC; Friday 18:00 in Berlin (UTC+1 in winter) is 17:00 UTC.
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert next_weekly_run(4, 18, "Europe/Berlin", now) == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def test_same_day_after_the_hour_rolls_to_next_week() -> None:
    """Tuesday 09:00, asked on Tuesday at 10:00, is next Tuesday."""
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday
    assert next_weekly_run(1, 9, "UTC", now) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_daylight_saving_change_keeps_the_local_hour() -> None:
    """Across the end of daylight saving, 09:00 local stays 09:00 local."""
    # New York leaves DST on 2026-11-01: Sunday 09:00 local is 13:00 UTC before, 14:00 UTC after.
    before = datetime(2026, 10, 26, tzinfo=UTC)
    assert next_weekly_run(6, 9, "America/New_York", before) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_an_hour_the_clocks_skip_or_repeat_runs_once_that_day() -> None:
    """02:00 on the night New York springs forward does not exist: the refresh runs at 03:00 local,
    once; 01:00 on the night it falls back happens twice: it runs at the first, once."""
    spring = next_weekly_run(6, 2, "America/New_York", datetime(2027, 3, 10, tzinfo=UTC))
    assert spring == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert next_weekly_run(6, 2, "America/New_York", spring + timedelta(seconds=30)) == datetime(2027, 3, 21, 6, 0, tzinfo=UTC)
    autumn = next_weekly_run(6, 1, "America/New_York", datetime(2026, 10, 28, tzinfo=UTC))
    assert autumn == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT, the first of the two
    assert next_weekly_run(6, 1, "America/New_York", autumn + timedelta(seconds=30)) == datetime(2026, 11, 8, 6, 0, tzinfo=UTC)


def test_bad_weekday_hour_and_zone_are_refused_with_a_reason() -> None:
    """Each invalid input is refused with a message naming what was wrong."""
    assert parse_weekday("fri") == 4 and parse_weekday("Sunday") == 6
    with pytest.raises(InvalidSchedule, match="weekday"):
        parse_weekday("someday")
    with pytest.raises(InvalidSchedule, match="time zone"):
        parse_timezone("Mars/Olympus_Mons")
    with pytest.raises(InvalidSchedule, match="hour"):
        next_weekly_run(0, 24, "UTC", datetime(2026, 1, 1, tzinfo=UTC))


def test_a_five_thousand_character_time_zone_is_refused_as_unknown() -> None:
    """A huge time zone is an unknown zone with a short message, not OSError: File name too long."""
    with pytest.raises(InvalidSchedule) as refused:
        parse_timezone("A" * 5000)
    assert "unknown time zone" in str(refused.value) and len(str(refused.value)) < 200


@pytest.mark.parametrize("name", ["../../etc/passwd", "Europe/../Europe/Berlin", "europe/berlin", "", "Europe"])
def test_paths_and_near_misses_are_not_time_zones(name: str) -> None:
    """Only the IANA names tzdata ships are accepted, compared as names, never as file paths."""
    with pytest.raises(InvalidSchedule):
        parse_timezone(name)


def test_the_weekly_time_before_a_run_keeps_the_local_hour_across_a_clock_change() -> None:
    """The Sunday 18:00 Berlin before the first one after a change is 18:00 local too: an hour
    off from the later one minus seven days, either way."""
    after_october = datetime(2026, 10, 25, 17, 0, tzinfo=UTC)  # 18:00 CET
    assert weekly_run_before(6, 18, "Europe/Berlin", after_october) == datetime(2026, 10, 18, 16, 0, tzinfo=UTC)
    after_march = datetime(2027, 3, 28, 16, 0, tzinfo=UTC)  # 18:00 CEST
    assert weekly_run_before(6, 18, "Europe/Berlin", after_march) == datetime(2027, 3, 21, 17, 0, tzinfo=UTC)
    assert weekly_run_before(6, 18, "Europe/Berlin", after_march + timedelta(minutes=1)) == after_march
