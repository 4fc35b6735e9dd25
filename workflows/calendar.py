"""The working calendar the bureau keeps: which days are working days.

A day is a working day when the national calendar says so (`chinese_calendar`: weekends and 法定节假日
are rest days, the 调休 Saturdays and Sundays are working days), unless the bureau's own table
(`CalendarOverride`, edited in the admin) says otherwise. A year the package has no data for counts
weekends only: `is_known(year)` says which, and a warning is logged the first time such a year is used.

`WorkingCalendar` reads the overrides of a year once and answers many questions (opening a round,
listing a page); the module's functions make a fresh one each call.
"""

import datetime
import logging

import chinese_calendar

from .models import CalendarOverride

logger = logging.getLogger("duban.calendar")

_warned = set()  # years already warned about in this process (the warning is a log line, not state)

ONE_DAY = datetime.timedelta(days=1)


def is_known(year):
    """Whether the national calendar of `year` (holidays and 调休) is in the package's data."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def unknown_note(year):
    """The sentence the pages and commands show for a year the package does not know, else ""."""
    return "" if is_known(year) else f"{year} 年的法定节假日尚未收录,按周末计算"


def national_working_day(day):
    """What the national calendar alone says of `day` (weekends only for a year it does not know)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            logger.warning("%s 年的法定节假日尚未收录,按周末计算(chinesecalendar 无该年数据)", day.year)
        return day.weekday() < 5


class WorkingCalendar:
    """The working days, with the bureau's overrides read once per year asked about."""

    def __init__(self):
        self._overrides = {}  # year → {date: working}

    def _overrides_of(self, year):
        if year not in self._overrides:
            rows = CalendarOverride.objects.filter(date__year=year).values_list("date", "working")
            self._overrides[year] = dict(rows)
        return self._overrides[year]

    def is_working_day(self, day):
        override = self._overrides_of(day.year).get(day)
        return national_working_day(day) if override is None else override

    def next_working_day(self, day):
        """`day` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, day, count):
        """The `count`-th working day after `day` (`day` itself for 0)."""
        for _ in range(count):
            day = self.next_working_day(day + ONE_DAY)
        return day

    def working_days_between(self, start, end):
        """The working days after `start` up to and including `end`; negative when `end` is before `start`."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


def is_working_day(day):
    return WorkingCalendar().is_working_day(day)


def next_working_day(day):
    return WorkingCalendar().next_working_day(day)


def add_working_days(day, count):
    return WorkingCalendar().add_working_days(day, count)


def working_days_between(start, end):
    return WorkingCalendar().working_days_between(start, end)
