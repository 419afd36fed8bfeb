"""Business-hour arithmetic for Chilean public offices.

Everything here is pure: no models, no ORM, no database. Callers that know of
decreed holidays or office closures look them up themselves and pass them in as
``extra_days``.

Working hours come from ``settings.BUSINESS_HOURS``: a mapping weekday
(0=Monday .. 6=Sunday) -> ``"09:00-17:00"``, ``"09:00-13:00,14:00-18:00"`` or
``""`` for a day off. A weekday missing from the mapping is a day off. ``24:00``
is accepted as the end of a period, meaning midnight at the end of that day.
Working hours are wall-clock times in America/Santiago, whatever zone the
caller's datetimes are in; results are always in America/Santiago.

Daylight-saving transitions
---------------------------
All arithmetic is done on UTC instants: Python subtracts and adds aware
datetimes that share a ``tzinfo`` as if they were naive, which would count an
hour too many or too few on the two Chilean change nights. Each period boundary
(a wall-clock time on a date) is turned into one instant:

* an ambiguous wall time (the repeated hour before the autumn change) is its
  first occurrence;
* a nonexistent wall time (the hour skipped in spring; in Chile 00:00 jumps to
  01:00) is the instant of the jump, i.e. the first moment at which the clock
  shows that time or later.

That mapping never goes backwards, so periods stay ordered and never overlap; a
period that falls wholly inside the skipped hour simply has no length.

Zero hours
----------
``add_business_hours(start, 0)`` returns ``next_working_moment(start)`` rather
than ``start``: the result of ``add_business_hours`` is then always a working
moment (or the end of a period), always in America/Santiago, and never
decreases as ``hours`` grows.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "TIME_ZONE",
    "DEFAULT_BUSINESS_HOURS",
    "is_working_day",
    "add_business_hours",
    "business_hours_between",
    "business_hours_since",
    "next_working_moment",
]

TIME_ZONE = ZoneInfo("America/Santiago")

DEFAULT_BUSINESS_HOURS: dict[int, str] = {
    0: "09:00-17:00",
    1: "09:00-17:00",
    2: "09:00-17:00",
    3: "09:00-17:00",
    4: "09:00-17:00",
    5: "",
    6: "",
}

# How far add_business_hours may look ahead before giving up. Only reached when
# extra_days blocks every working day for decades or ``hours`` is absurdly large;
# it turns what would be an endless loop into an error.
MAX_SEARCH_YEARS = 50

_UTC = UTC
_MINUTES_PER_DAY = 24 * 60
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# A schedule is 7 tuples (Monday..Sunday) of (start, end) minutes after midnight.
Schedule = tuple[tuple[tuple[int, int], ...], ...]


# --- Schedule --------------------------------------------------------------------


def _parse_minutes(hh: str, mm: str, *, is_end: bool, where: str) -> int:
    hours, minutes = int(hh), int(mm)
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not is_end)):
        raise ImproperlyConfigured(
            f"BUSINESS_HOURS{where}: {hh}:{mm} is not a valid time "
            "(use 00:00-23:59, or 24:00 as the end of a period)."
        )
    return hours * 60 + minutes


def _parse_day(weekday: int, value: object) -> tuple[tuple[int, int], ...]:
    where = f"[{weekday}]"
    if value is None:
        return ()
    if not isinstance(value, str):
        raise ImproperlyConfigured(
            f"BUSINESS_HOURS{where} must be a string like '09:00-17:00' or "
            f"'' for a day off, not {type(value).__name__}."
        )
    if not value.strip():
        return ()
    periods = []
    for chunk in value.split(","):
        match = _PERIOD.match(chunk)
        if not match:
            raise ImproperlyConfigured(
                f"BUSINESS_HOURS{where} = {value!r}: {chunk.strip()!r} is not a "
                "period of the form HH:MM-HH:MM (separate periods with commas)."
            )
        start = _parse_minutes(*match.group(1, 2), is_end=False, where=where)
        end = _parse_minutes(*match.group(3, 4), is_end=True, where=where)
        if start >= end:
            raise ImproperlyConfigured(
                f"BUSINESS_HOURS{where} = {value!r}: period {chunk.strip()!r} "
                "must start before it ends (periods cannot cross midnight; "
                "split them across two days instead)."
            )
        periods.append((start, end))
    periods.sort()
    for (_, previous_end), (next_start, _) in zip(periods, periods[1:], strict=False):
        if next_start < previous_end:
            raise ImproperlyConfigured(f"BUSINESS_HOURS{where} = {value!r}: periods overlap.")
    return tuple(periods)


def _parse_schedule(items: tuple[tuple[object, object], ...]) -> Schedule:
    days: list[tuple[tuple[int, int], ...]] = [()] * 7
    for key, value in items:
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key <= 6:
            raise ImproperlyConfigured(
                f"BUSINESS_HOURS keys must be weekday numbers 0 (Monday) to "
                f"6 (Sunday); got {key!r}."
            )
        days[key] = _parse_day(key, value)
    if not any(days):
        # Every search for a working moment would run forever.
        raise ImproperlyConfigured(
            "BUSINESS_HOURS defines no working hours on any day of the week."
        )
    return tuple(days)


_parse_schedule_cached = lru_cache(maxsize=16)(_parse_schedule)


def _schedule() -> Schedule:
    raw = getattr(settings, "BUSINESS_HOURS", DEFAULT_BUSINESS_HOURS)
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(
            "BUSINESS_HOURS must be a dict of weekday (0=Monday..6=Sunday) -> "
            f"'HH:MM-HH:MM[,HH:MM-HH:MM...]', not {type(raw).__name__}."
        )
    # Keyed on the raw items, not on the dict's identity, so tests that swap or
    # mutate settings.BUSINESS_HOURS are seen immediately.
    items = tuple(raw.items())
    try:
        return _parse_schedule_cached(items)
    except TypeError:  # an unhashable value; parsing it reports the real problem
        return _parse_schedule(items)


# --- Days ------------------------------------------------------------------------


def _normalize_subdiv(subdiv: str | None) -> str | None:
    if subdiv is None:
        return None
    if not isinstance(subdiv, str):
        raise TypeError(f"subdiv must be a str or None, not {type(subdiv).__name__}.")
    subdiv = subdiv.strip().upper()
    return subdiv or None


@lru_cache(maxsize=512)
def _holidays(subdiv: str | None, year: int) -> frozenset[date]:
    # A frozenset, not the HolidayBase itself: HolidayBase grows itself when asked
    # about other years and its lookups are much slower than a set's.
    try:
        calendar = holidays.country_holidays("CL", subdiv=subdiv, years=year)
    except NotImplementedError as exc:
        raise ValueError(
            f"Unknown Chilean region code {subdiv!r}; expected an ISO 3166-2:CL "
            "code such as 'RM' or 'NB', or None for national holidays only."
        ) from exc
    return frozenset(calendar)


def _check_date(value: object, name: str) -> None:
    # A datetime is a date subclass but never equals a date, so it would silently
    # miss every holiday and extra day.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}.")


def _extra_set(extra_days: Collection[date]) -> frozenset[date]:
    extra = frozenset(extra_days)
    for day in extra:
        _check_date(day, "extra_days items")
    return extra


def _is_working_day(
    day: date, schedule: Schedule, subdiv: str | None, extra: frozenset[date]
) -> bool:
    return (
        bool(schedule[day.weekday()])
        and day not in extra
        and day not in _holidays(subdiv, day.year)
    )


def is_working_day(day: date, *, subdiv: str | None, extra_days: Collection[date] = ()) -> bool:
    """Whether ``day`` has working hours and is neither a holiday nor an extra day.

    Holidays are Chile's national ones plus those of region ``subdiv`` (ISO
    3166-2:CL code; None or "" for national only).
    """
    _check_date(day, "day")
    return _is_working_day(day, _schedule(), _normalize_subdiv(subdiv), _extra_set(extra_days))


# --- Instants --------------------------------------------------------------------


def _wall(instant: datetime) -> datetime:
    return instant.astimezone(TIME_ZONE).replace(tzinfo=None)


def _wall_to_instant(day: date, minutes: int) -> datetime:
    naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
    instant = naive.replace(tzinfo=TIME_ZONE, fold=0).astimezone(_UTC)
    if _wall(instant) == naive:
        return instant  # exists; fold=0 picked the first of two if ambiguous
    # Nonexistent: the two folds land on either side of the jump. The instant of
    # the jump is the first one whose clock reading is >= naive; bisect on whole
    # seconds (tz transitions are on whole seconds).
    other = naive.replace(tzinfo=TIME_ZONE, fold=1).astimezone(_UTC)
    low = math.floor(min(instant, other).timestamp())
    high = math.ceil(max(instant, other).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, _UTC)) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, _UTC)


@lru_cache(maxsize=4096)
def _day_periods(
    day: date, periods: tuple[tuple[int, int], ...]
) -> tuple[tuple[datetime, datetime], ...]:
    result = []
    for start, end in periods:
        start_at, end_at = _wall_to_instant(day, start), _wall_to_instant(day, end)
        if end_at > start_at:  # a period inside the skipped DST hour has no length
            result.append((start_at, end_at))
    return tuple(result)


def _working_periods(
    first_day: date,
    last_day: date,
    schedule: Schedule,
    subdiv: str | None,
    extra: frozenset[date],
) -> Iterator[tuple[datetime, datetime]]:
    """UTC (start, end) of every working period from first_day to last_day, in order."""
    day = first_day
    one_day = timedelta(days=1)
    while True:
        if _is_working_day(day, schedule, subdiv, extra):
            yield from _day_periods(day, schedule[day.weekday()])
        if day >= last_day:
            return
        day += one_day


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}.")
    return value.astimezone(_UTC)


def _to_timedelta(hours: float | int | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        amount = hours
    elif isinstance(hours, (int, float)) and not isinstance(hours, bool):
        if not math.isfinite(hours):
            raise ValueError(f"hours must be a finite number, got {hours!r}.")
        amount = timedelta(hours=hours)
    else:
        raise TypeError(f"hours must be a number or a timedelta, not {type(hours).__name__}.")
    if amount < timedelta(0):
        raise ValueError(f"hours must not be negative, got {hours!r}.")
    return amount


def _search(
    moment: datetime, amount: timedelta, subdiv: str | None, extra_days: Collection[date]
) -> datetime:
    schedule = _schedule()
    subdiv = _normalize_subdiv(subdiv)
    extra = _extra_set(extra_days)
    # Starting a day early costs one lookup and guarantees no period that contains
    # moment is skipped, whatever the time zone's transitions look like.
    first_day = _shift(_wall(moment).date(), -1)
    last_day = _shift(first_day, 366 * MAX_SEARCH_YEARS)
    remaining = amount
    for start_at, end_at in _working_periods(first_day, last_day, schedule, subdiv, extra):
        if end_at <= moment:
            continue
        start_at = max(start_at, moment)
        available = end_at - start_at
        # "<=" so that running out exactly at the end of a period returns that end
        # rather than the start of the next one.
        if remaining <= available:
            return (start_at + remaining).astimezone(TIME_ZONE)
        remaining -= available
    raise ValueError(
        f"Found no working time to cover the request within {MAX_SEARCH_YEARS} "
        f"years of {moment.astimezone(TIME_ZONE).isoformat()}; check extra_days "
        "and the number of hours."
    )


def next_working_moment(
    moment: datetime, *, subdiv: str | None, extra_days: Collection[date] = ()
) -> datetime:
    """``moment`` itself if it is inside working hours, else the start of the next
    working period; in America/Santiago.

    Periods are half-open: the end of a period (17:00) is not inside it.
    """
    return _search(_to_utc(moment, "moment"), timedelta(0), subdiv, extra_days)


def add_business_hours(
    start: datetime,
    hours: float | int | timedelta,
    *,
    subdiv: str | None,
    extra_days: Collection[date] = (),
) -> datetime:
    """The moment when ``hours`` of working time have passed since ``start``.

    Counting starts at ``next_working_moment(start)``. If the hours run out exactly
    at the end of a period, that end is returned (Monday 09:00 + 8h is Monday
    17:00). ``hours=0`` returns ``next_working_moment(start)``. Negative hours raise
    ValueError. The result is in America/Santiago.
    """
    return _search(_to_utc(start, "start"), _to_timedelta(hours), subdiv, extra_days)


def business_hours_between(
    start: datetime, end: datetime, *, subdiv: str | None, extra_days: Collection[date] = ()
) -> timedelta:
    """The working time inside [start, end]; zero if end <= start."""
    start_utc, end_utc = _to_utc(start, "start"), _to_utc(end, "end")
    if end_utc <= start_utc:
        return timedelta(0)
    schedule = _schedule()
    subdiv = _normalize_subdiv(subdiv)
    extra = _extra_set(extra_days)
    first_day = _shift(_wall(start_utc).date(), -1)
    # No period of a later local date can start before end.
    last_day = _shift(_wall(end_utc).date(), 1)
    total = timedelta(0)
    for start_at, end_at in _working_periods(first_day, last_day, schedule, subdiv, extra):
        if start_at >= end_utc:
            break
        overlap = min(end_at, end_utc) - max(start_at, start_utc)
        if overlap > timedelta(0):
            total += overlap
    return total


def business_hours_since(
    starts: Sequence[datetime],
    end: datetime,
    *,
    subdiv: str | None,
    extra_days: Collection[date] = (),
) -> list[timedelta]:
    """``business_hours_between(start, end)`` for each of ``starts``, all in one pass.

    For many tickets of one region closing at the same moment: the working periods
    are walked once, back to the earliest start, instead of once per start (a
    ticket opened a year ago costs a year of days). The same sums, to the
    microsecond: timedelta arithmetic is exact, whatever the order.
    """
    end_utc = _to_utc(end, "end")
    starts_utc = [_to_utc(s, "start") for s in starts]
    if not starts_utc:
        return []
    schedule = _schedule()
    subdiv = _normalize_subdiv(subdiv)
    extra = _extra_set(extra_days)
    first_day = _shift(_wall(min(starts_utc)).date(), -1)
    last_day = _shift(_wall(end_utc).date(), 1)
    periods = []  # (start, end) of each working period before ``end``, cut at ``end``
    for start_at, end_at in _working_periods(first_day, last_day, schedule, subdiv, extra):
        if start_at >= end_utc:
            break
        periods.append((start_at, min(end_at, end_utc)))
    # after[i]: the working time from the start of period i to ``end``.
    after = [timedelta(0)] * (len(periods) + 1)
    for i in range(len(periods) - 1, -1, -1):
        after[i] = after[i + 1] + (periods[i][1] - periods[i][0])
    ends = [period_end for _, period_end in periods]
    result = []
    for start in starts_utc:
        # The first period that ends after ``start``; only its part after ``start`` counts.
        i = bisect_right(ends, start)
        spent = after[i]
        if i < len(periods) and periods[i][0] < start:
            spent -= start - periods[i][0]
        result.append(spent)
    return result
