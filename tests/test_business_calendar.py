"""Business-hour arithmetic: deadlines skip nights, weekends, holidays and closures.

The oracles in this file are deliberately independent of the module under test:
holidays come straight from the ``holidays`` package, working hours are checked
on the local wall clock, and expected deadlines are worked out by hand.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tickets import business_calendar as bc
from tickets.business_calendar import (
    add_business_hours,
    business_hours_between,
    business_hours_since,
    is_working_day,
    next_working_moment,
)

SANTIAGO = ZoneInfo("America/Santiago")
UTC = UTC

DEFAULT_HOURS = {d: "09:00-17:00" for d in range(5)} | {5: "", 6: ""}
LUNCH_BREAK = {d: "09:00-13:00,14:00-18:00" for d in range(5)} | {5: "", 6: ""}
# Periods that touch midnight on every day, so both Chilean DST changes (which
# happen at midnight) cut through working time.
NIGHT_SHIFT = {d: "00:00-01:30,22:30-24:00" for d in range(7)}
AROUND_THE_CLOCK = {d: "00:00-24:00" for d in range(7)}

SUBDIVS = [None, "", "RM", "AP", "NB", "MA", "VS"]


def at(year, month, day, hour=0, minute=0, tz=SANTIAGO):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def utc(moment):
    """For comparing results: aware datetimes sharing a zone compare by wall clock
    (so 23:30 -04 < 23:45 -03 on the autumn night), and == between zones is always
    False for a time in the repeated hour. UTC has neither problem."""
    return moment.astimezone(UTC)


def later(moment, delta):
    """``delta`` of real time after ``moment``. Plain ``moment + delta`` adds wall-clock
    time in moment's zone, which is off by an hour (or even goes backwards) across
    that zone's DST changes."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def holiday_dates(subdiv, year):
    return set(holidays.country_holidays("CL", subdiv=subdiv or None, years=year))


def is_inside_or_at_end_of_working_hours(moment, schedule, subdiv, extra_days):
    """Oracle on the local wall clock, written without the module's help."""
    local = moment.astimezone(SANTIAGO).replace(tzinfo=None)
    for day in (local.date(), local.date() - timedelta(days=1)):
        if day in extra_days or day in holiday_dates(subdiv, day.year):
            continue
        for period in filter(None, schedule[day.weekday()].split(",")):
            first, last = period.split("-")
            opens = datetime.combine(day, time.fromisoformat(first))
            h, m = map(int, last.split(":"))
            closes = datetime.combine(day, time()) + timedelta(hours=h, minutes=m)
            if opens <= local <= closes:
                return True
    return False


# --- Strategies -------------------------------------------------------------------

zones = st.sampled_from(
    [SANTIAGO, UTC, ZoneInfo("Europe/Madrid"), ZoneInfo("America/Punta_Arenas")]
)

any_moment = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=zones,
    allow_imaginary=False,
)


@st.composite
def moments_around_dst_changes(draw):
    """Instants within a couple of weeks of an April or September DST change."""
    year = draw(st.integers(2024, 2030))
    month = draw(st.sampled_from([4, 9]))
    base = datetime(year, month, 1, tzinfo=UTC) - timedelta(days=2)
    instant = base + timedelta(seconds=draw(st.integers(0, 14 * 24 * 3600)))
    return instant.astimezone(draw(zones))


work_amounts = st.integers(0, 30 * 60).map(lambda minutes: timedelta(minutes=minutes))
later_by = st.integers(0, 5 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
subdivs = st.sampled_from(SUBDIVS)


def extra_days_near(start):
    first = start.astimezone(SANTIAGO).date()
    return st.sets(st.integers(-2, 20), max_size=6).map(
        lambda offsets: frozenset(first + timedelta(days=n) for n in offsets)
    )


examples = hypothesis_settings(
    max_examples=60,
    deadline=None,  # the first call in a year builds that year's holidays
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- Properties -------------------------------------------------------------------


@examples
@given(start=any_moment, amount=work_amounts, subdiv=subdivs, data=st.data())
def test_a_deadline_never_lands_on_a_weekend_holiday_extra_day_or_outside_hours(
    start, amount, subdiv, data
):
    extra = data.draw(extra_days_near(start))
    deadline = add_business_hours(start, amount, subdiv=subdiv, extra_days=extra)

    local = deadline.astimezone(SANTIAGO)
    assert deadline.tzinfo == SANTIAGO
    assert local.weekday() < 5
    assert local.date() not in holiday_dates(subdiv, local.year)
    assert local.date() not in extra
    assert is_inside_or_at_end_of_working_hours(deadline, DEFAULT_HOURS, subdiv, extra)


@examples
@given(start=any_moment, amount=work_amounts, subdiv=subdivs, data=st.data())
def test_adding_hours_then_measuring_gives_back_the_hours_added(start, amount, subdiv, data):
    extra = data.draw(extra_days_near(start))
    deadline = add_business_hours(start, amount, subdiv=subdiv, extra_days=extra)
    counting_from = next_working_moment(start, subdiv=subdiv, extra_days=extra)

    assert (
        business_hours_between(counting_from, deadline, subdiv=subdiv, extra_days=extra) == amount
    )
    # Time before the first working moment is not working time either.
    assert business_hours_between(start, deadline, subdiv=subdiv, extra_days=extra) == amount


@examples
@given(
    start=any_moment,
    delay=later_by,
    amount=work_amounts,
    more=work_amounts,
    subdiv=subdivs,
    data=st.data(),
)
def test_a_later_start_or_more_hours_never_gives_an_earlier_deadline(
    start, delay, amount, more, subdiv, data
):
    extra = data.draw(extra_days_near(start))
    base = add_business_hours(start, amount, subdiv=subdiv, extra_days=extra)

    assert utc(
        add_business_hours(later(start, delay), amount, subdiv=subdiv, extra_days=extra)
    ) >= utc(base)
    assert utc(add_business_hours(start, amount + more, subdiv=subdiv, extra_days=extra)) >= utc(
        base
    )
    assert (
        utc(base) >= utc(next_working_moment(start, subdiv=subdiv, extra_days=extra)) >= utc(start)
    )


@examples
@given(start=any_moment, subdiv=subdivs)
def test_the_next_working_moment_is_the_moment_itself_only_inside_working_hours(start, subdiv):
    found = next_working_moment(start, subdiv=subdiv)
    local = start.astimezone(SANTIAGO)
    inside = (
        local.weekday() < 5
        and local.date() not in holiday_dates(subdiv, local.year)
        and time(9) <= local.time() < time(17)
    )
    assert (utc(found) == utc(start)) is inside
    assert utc(found) >= utc(start)
    if not inside:
        assert found.astimezone(SANTIAGO).time() == time(9)


@pytest.mark.parametrize(
    "schedule",
    [DEFAULT_HOURS, LUNCH_BREAK, NIGHT_SHIFT, AROUND_THE_CLOCK],
    ids=["default", "lunch-break", "night-shift", "around-the-clock"],
)
@examples
@given(
    start=moments_around_dst_changes(),
    delay=later_by,
    amount=work_amounts,
    more=work_amounts,
    subdiv=subdivs,
)
def test_deadlines_stay_consistent_across_santiago_dst_changes(
    schedule, start, delay, amount, more, subdiv
):
    with override_settings(BUSINESS_HOURS=schedule):
        deadline = add_business_hours(start, amount, subdiv=subdiv)
        counting_from = next_working_moment(start, subdiv=subdiv)

        assert is_inside_or_at_end_of_working_hours(deadline, schedule, subdiv, ())
        assert is_inside_or_at_end_of_working_hours(counting_from, schedule, subdiv, ())
        assert business_hours_between(counting_from, deadline, subdiv=subdiv) == amount
        assert utc(add_business_hours(later(start, delay), amount, subdiv=subdiv)) >= utc(deadline)
        assert utc(add_business_hours(start, amount + more, subdiv=subdiv)) >= utc(deadline)
        assert utc(deadline) >= utc(counting_from) >= utc(start)


@examples
@given(start=moments_around_dst_changes(), length=later_by)
# Ends in the repeated hour, where == across zones is always False.
@example(start=datetime(2028, 3, 30, tzinfo=UTC), length=timedelta(minutes=4440))
def test_around_the_clock_working_time_is_real_elapsed_time_even_across_dst(start, length):
    end = later(start, length)
    local_days = {
        start.astimezone(SANTIAGO).date() + timedelta(days=n) for n in range(-1, length.days + 3)
    }
    assume(not any(d in holiday_dates(None, d.year) for d in local_days))
    with override_settings(BUSINESS_HOURS=AROUND_THE_CLOCK):
        assert business_hours_between(start, end, subdiv=None) == length
        assert utc(add_business_hours(start, length, subdiv=None)) == utc(end)


@pytest.mark.parametrize(
    "schedule",
    [DEFAULT_HOURS, LUNCH_BREAK, NIGHT_SHIFT, AROUND_THE_CLOCK],
    ids=["default", "lunch-break", "night-shift", "around-the-clock"],
)
@examples
@given(
    end=st.one_of(any_moment, moments_around_dst_changes()),
    before=st.lists(st.integers(-3 * 24 * 60, 400 * 24 * 60), max_size=8),
    subdiv=subdivs,
    data=st.data(),
)
def test_hours_since_many_starts_are_each_the_hours_between_that_start_and_the_end(
    schedule, end, before, subdiv, data
):
    # Starts up to 400 days before the end, and a few after it (no working time).
    starts = [later(end, timedelta(minutes=-m)) for m in before]
    extra = data.draw(extra_days_near(later(end, -timedelta(days=10))))
    with override_settings(BUSINESS_HOURS=schedule):
        assert business_hours_since(starts, end, subdiv=subdiv, extra_days=extra) == [
            business_hours_between(s, end, subdiv=subdiv, extra_days=extra) for s in starts
        ]


def test_hours_since_no_start_is_an_empty_list():
    assert business_hours_since([], at(2026, 10, 5, 9), subdiv="RM") == []


# --- DST, by hand -----------------------------------------------------------------


def test_the_autumn_night_has_an_extra_hour_of_around_the_clock_work(settings):
    # Sunday 4 April 2027 00:00 (-03) becomes Saturday 23:00 (-04). (In 2026 that
    # Saturday is Holy Saturday, a holiday.)
    assert date(2027, 4, 3) not in holiday_dates(None, 2027)
    settings.BUSINESS_HOURS = AROUND_THE_CLOCK
    evening, night = at(2027, 4, 3, 20), at(2027, 4, 4, 2)
    assert business_hours_between(evening, night, subdiv=None) == timedelta(hours=7)
    assert add_business_hours(evening, 7, subdiv=None) == night
    assert add_business_hours(evening, 6, subdiv=None) != night


def test_the_spring_night_is_an_hour_short_of_around_the_clock_work(settings):
    # Saturday 5 September 2026 24:00 (-04) becomes Sunday 01:00 (-03).
    settings.BUSINESS_HOURS = AROUND_THE_CLOCK
    evening, night = at(2026, 9, 5, 20), at(2026, 9, 6, 2)
    assert business_hours_between(evening, night, subdiv=None) == timedelta(hours=5)
    assert add_business_hours(evening, 5, subdiv=None) == night
    assert add_business_hours(evening, 6, subdiv=None) != night


def test_a_period_starting_in_the_skipped_hour_starts_when_the_clock_jumps(settings):
    settings.BUSINESS_HOURS = {6: "00:30-02:00", 0: "09:00-17:00"}
    sunday_night = at(2026, 9, 6, 0, 0, tz=UTC) + timedelta(hours=4)  # the jump
    assert sunday_night.astimezone(SANTIAGO) == at(2026, 9, 6, 1)
    # Saturday evening: the next working moment is the jump to 01:00, not 01:30.
    found = next_working_moment(at(2026, 9, 5, 22), subdiv=None)
    assert found == at(2026, 9, 6, 1)
    assert found.utcoffset() == timedelta(hours=-3)
    assert business_hours_between(at(2026, 9, 5, 22), at(2026, 9, 6, 3), subdiv=None) == timedelta(
        hours=1
    )
    # A normal Sunday has the full 90 minutes.
    assert business_hours_between(
        at(2026, 9, 12, 22), at(2026, 9, 13, 3), subdiv=None
    ) == timedelta(minutes=90)


def test_a_period_in_the_repeated_hour_covers_both_passes_of_the_clock(settings):
    settings.BUSINESS_HOURS = {5: "22:00-24:00", 0: "09:00-17:00"}
    saturday = at(2027, 4, 3, 21), at(2027, 4, 4, 3)
    assert business_hours_between(*saturday, subdiv=None) == timedelta(hours=3)
    deadline = add_business_hours(at(2027, 4, 3, 21), timedelta(hours=2, minutes=30), subdiv=None)
    # The second 23:30 of the night, one hour behind the first.
    assert deadline.replace(tzinfo=None) == datetime(2027, 4, 3, 23, 30)
    assert deadline.utcoffset() == timedelta(hours=-4)
    # A normal Saturday has two hours.
    assert business_hours_between(
        at(2027, 4, 10, 21), at(2027, 4, 11, 3), subdiv=None
    ) == timedelta(hours=2)


# --- Concrete deadlines -----------------------------------------------------------


def test_a_request_before_fiestas_patrias_is_due_after_the_holidays():
    national = holiday_dates("RM", 2026)
    # The premise: Friday 18 and Saturday 19 September 2026 are holidays, the
    # Thursday before and the Monday after are not.
    assert {date(2026, 9, 18), date(2026, 9, 19)} <= national
    assert date(2026, 9, 17) not in national and date(2026, 9, 21) not in national

    # Thursday 15:00-17:00 (2h), Friday-Sunday off, Monday 09:00-17:00 (8h),
    # Tuesday 09:00-15:00 (6h): 16 hours.
    deadline = add_business_hours(at(2026, 9, 17, 15), 16, subdiv="RM")
    assert deadline == at(2026, 9, 22, 15)
    assert deadline.utcoffset() == timedelta(hours=-3)


def test_the_same_request_a_week_earlier_is_due_two_days_later_without_holidays():
    # Thursday 10 September 2026: Friday 11 and Monday 14 are working days.
    assert add_business_hours(at(2026, 9, 10, 15), 16, subdiv="RM") == at(2026, 9, 14, 15)


def test_a_regional_holiday_moves_only_that_regions_deadline():
    # Monday 7 June 2027 is Arica y Parinacota's own holiday.
    assert date(2027, 6, 7).weekday() == 0
    assert date(2027, 6, 7) in holiday_dates("AP", 2027)
    assert date(2027, 6, 7) not in holiday_dates("RM", 2027)

    friday_afternoon = at(2027, 6, 4, 15)
    assert add_business_hours(friday_afternoon, 8, subdiv="AP") == at(2027, 6, 8, 15)
    assert add_business_hours(friday_afternoon, 8, subdiv="RM") == at(2027, 6, 7, 15)
    assert add_business_hours(friday_afternoon, 8, subdiv=None) == at(2027, 6, 7, 15)


def test_nuble_alone_stops_for_twenty_august():
    # Thursday 20 August 2026.
    assert date(2026, 8, 20) in holiday_dates("NB", 2026)
    wednesday = at(2026, 8, 19, 15)
    assert add_business_hours(wednesday, 8, subdiv="NB") == at(2026, 8, 21, 15)
    assert add_business_hours(wednesday, 8, subdiv="BI") == at(2026, 8, 20, 15)
    assert not is_working_day(date(2026, 8, 20), subdiv="NB")
    assert is_working_day(date(2026, 8, 20), subdiv="BI")


def test_region_codes_are_read_regardless_of_case_and_spaces():
    assert not is_working_day(date(2026, 8, 20), subdiv=" nb ")
    assert is_working_day(date(2026, 8, 20), subdiv="")


def test_an_extra_non_working_day_moves_the_deadline():
    closure = date(2026, 10, 6)  # a Tuesday
    start = at(2026, 10, 5, 15)
    assert add_business_hours(start, 8, subdiv="RM") == at(2026, 10, 6, 15)
    assert add_business_hours(start, 8, subdiv="RM", extra_days={closure}) == at(2026, 10, 7, 15)
    assert add_business_hours(start, 8, subdiv="RM", extra_days=[closure]) == at(2026, 10, 7, 15)
    assert not is_working_day(closure, subdiv="RM", extra_days={closure})
    assert is_working_day(closure, subdiv="RM")


def test_an_extra_day_that_falls_on_a_weekend_changes_nothing():
    sunday = date(2026, 10, 4)
    start = at(2026, 10, 2, 15)
    assert add_business_hours(start, 8, subdiv="RM", extra_days={sunday}) == at(2026, 10, 5, 15)


def test_a_lunch_break_is_not_working_time(settings):
    monday = at(2026, 10, 5, 9)
    assert add_business_hours(monday, 6, subdiv="RM") == at(2026, 10, 5, 15)

    settings.BUSINESS_HOURS = LUNCH_BREAK
    assert add_business_hours(monday, 6, subdiv="RM") == at(2026, 10, 5, 16)
    assert add_business_hours(monday, 4, subdiv="RM") == at(2026, 10, 5, 13)
    assert add_business_hours(monday, 9, subdiv="RM") == at(2026, 10, 6, 10)
    assert next_working_moment(at(2026, 10, 5, 13, 20), subdiv="RM") == at(2026, 10, 5, 14)
    assert next_working_moment(at(2026, 10, 5, 12, 20), subdiv="RM") == at(2026, 10, 5, 12, 20)
    assert business_hours_between(monday, at(2026, 10, 5, 18), subdiv="RM") == timedelta(hours=8)


def test_a_saturday_start_counts_from_monday_morning():
    saturday = at(2026, 10, 3, 11)
    assert next_working_moment(saturday, subdiv="RM") == at(2026, 10, 5, 9)
    assert add_business_hours(saturday, 2, subdiv="RM") == at(2026, 10, 5, 11)


def test_a_friday_start_counts_from_friday():
    assert add_business_hours(at(2026, 10, 2, 11), 2, subdiv="RM") == at(2026, 10, 2, 13)


def test_a_start_after_closing_counts_from_the_next_morning():
    assert add_business_hours(at(2026, 10, 5, 19), 1, subdiv="RM") == at(2026, 10, 6, 10)
    assert add_business_hours(at(2026, 10, 5, 7), 1, subdiv="RM") == at(2026, 10, 5, 10)


def test_monday_nine_plus_eight_hours_is_monday_five_pm_not_tuesday():
    monday = at(2026, 10, 5, 9)
    assert add_business_hours(monday, 8, subdiv="RM") == at(2026, 10, 5, 17)
    assert add_business_hours(monday, timedelta(hours=8, minutes=1), subdiv="RM") == at(
        2026, 10, 6, 9, 1
    )


def test_hours_may_be_an_int_a_float_or_a_timedelta():
    monday = at(2026, 10, 5, 9)
    expected = at(2026, 10, 5, 10, 30)
    assert add_business_hours(monday, 1.5, subdiv="RM") == expected
    assert add_business_hours(monday, timedelta(minutes=90), subdiv="RM") == expected
    assert add_business_hours(monday, 1, subdiv="RM") != expected


def test_zero_hours_gives_the_next_working_moment():
    inside = at(2026, 10, 5, 11, 15)
    assert add_business_hours(inside, 0, subdiv="RM") == inside
    assert add_business_hours(at(2026, 10, 5, 17), 0, subdiv="RM") == at(2026, 10, 6, 9)
    assert add_business_hours(at(2026, 10, 3, 11), 0, subdiv="RM") == at(2026, 10, 5, 9)


def test_inputs_in_other_zones_give_the_same_deadline_in_santiago_time():
    in_utc = datetime(2026, 10, 5, 12, tzinfo=UTC)  # 09:00 in Santiago
    deadline = add_business_hours(in_utc, 8, subdiv="RM")
    assert deadline == at(2026, 10, 5, 17)
    assert deadline.tzinfo == SANTIAGO
    # 13:00 UTC is 10:00 in Santiago, not 13:00.
    assert add_business_hours(datetime(2026, 10, 5, 13, tzinfo=UTC), 8, subdiv="RM") == at(
        2026, 10, 6, 10
    )


def test_the_weekend_is_not_a_working_day_and_a_weekday_is():
    assert is_working_day(date(2026, 10, 5), subdiv=None)
    assert not is_working_day(date(2026, 10, 4), subdiv=None)
    assert not is_working_day(date(2026, 9, 18), subdiv=None)


def test_business_hours_between_counts_only_working_time():
    friday_afternoon, monday_morning = at(2026, 10, 2, 16), at(2026, 10, 5, 10)
    assert business_hours_between(friday_afternoon, monday_morning, subdiv="RM") == timedelta(
        hours=2
    )
    assert business_hours_between(monday_morning, friday_afternoon, subdiv="RM") == timedelta(0)
    assert business_hours_between(monday_morning, monday_morning, subdiv="RM") == timedelta(0)


def test_a_long_span_is_measured_without_stepping_through_every_minute():
    # 2026: 365 days, 104 weekend days, holidays on weekdays counted from the source.
    year = holiday_dates("RM", 2026)
    weekday_holidays = sum(1 for d in year if d.weekday() < 5)
    working_days = 365 - 104 - weekday_holidays
    span = business_hours_between(at(2026, 1, 1), at(2027, 1, 1), subdiv="RM")
    assert span == timedelta(hours=8 * working_days)
    deadline = add_business_hours(at(2026, 1, 1), 8 * working_days, subdiv="RM")
    assert deadline == at(2026, 12, 31, 17)


# --- Bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9-17",
        "09:00",
        "17:00-09:00",
        "09:00-09:00",
        "09:00-25:00",
        "24:00-24:00",
        "09:60-17:00",
        "09:00-13:00,12:00-18:00",
        "09:00-13:00;14:00-18:00",
        17,
    ],
)
def test_a_malformed_business_hours_value_is_an_improper_configuration(settings, value):
    settings.BUSINESS_HOURS = DEFAULT_HOURS | {2: value}
    with pytest.raises(ImproperlyConfigured, match=r"BUSINESS_HOURS\[2\]"):
        add_business_hours(at(2026, 10, 5, 9), 8, subdiv="RM")


@pytest.mark.parametrize(
    "value",
    ["09:00-17:00", " 09:00 - 17:00 ", "14:00-18:00,09:00-13:00", "9:00-24:00", "", None],
)
def test_well_formed_business_hours_values_are_accepted(settings, value):
    settings.BUSINESS_HOURS = DEFAULT_HOURS | {2: value}
    assert add_business_hours(at(2026, 10, 5, 9), 8, subdiv="RM") == at(2026, 10, 5, 17)


@pytest.mark.parametrize("value", [{7: "09:00-17:00"}, {"0": "09:00-17:00"}, "09:00-17:00"])
def test_business_hours_with_bad_keys_or_shape_is_an_improper_configuration(settings, value):
    settings.BUSINESS_HOURS = value
    with pytest.raises(ImproperlyConfigured):
        is_working_day(date(2026, 10, 5), subdiv=None)


def test_a_schedule_without_any_working_hours_is_refused_instead_of_looping(settings):
    settings.BUSINESS_HOURS = {d: "" for d in range(7)}
    with pytest.raises(ImproperlyConfigured, match="no working hours"):
        add_business_hours(at(2026, 10, 5, 9), 8, subdiv="RM")


def test_a_schedule_with_a_single_working_day_is_enough(settings):
    settings.BUSINESS_HOURS = {d: "" for d in range(7)} | {2: "10:00-12:00"}
    assert add_business_hours(at(2026, 10, 5, 9), 3, subdiv="RM") == at(2026, 10, 14, 11)


def test_a_search_blocked_by_closures_gives_up_after_the_horizon(monkeypatch):
    monkeypatch.setattr(bc, "MAX_SEARCH_YEARS", 1)
    start = at(2026, 10, 5, 9)
    closed = {date(2026, 10, 1) + timedelta(days=n) for n in range(800)}
    with pytest.raises(ValueError, match="no working time"):
        add_business_hours(start, 8, subdiv="RM", extra_days=closed)
    assert add_business_hours(start, 8, subdiv="RM", extra_days={date(2026, 10, 5)}) == at(
        2026, 10, 6, 17
    )


@pytest.mark.parametrize("hours", [-1, -0.5, timedelta(minutes=-1), float("nan"), float("inf")])
def test_negative_or_non_finite_hours_are_refused(hours):
    with pytest.raises(ValueError):
        add_business_hours(at(2026, 10, 5, 9), hours, subdiv="RM")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_hours(datetime(2026, 10, 5, 9), 8, subdiv="RM")
    with pytest.raises(ValueError, match="timezone-aware"):
        business_hours_between(at(2026, 10, 5, 9), datetime(2026, 10, 6, 9), subdiv="RM")


def test_datetimes_among_extra_days_are_refused_rather_than_silently_ignored():
    with pytest.raises(TypeError):
        add_business_hours(at(2026, 10, 5, 9), 8, subdiv="RM", extra_days={datetime(2026, 10, 6)})
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 10, 6), subdiv="RM")


def test_an_unknown_region_code_is_refused():
    with pytest.raises(ValueError, match="region code"):
        is_working_day(date(2026, 10, 5), subdiv="XX")
