"""What the reports page may ask of a report: which reports a portal has, and the filters.

* **Which reports** — every portal-wide report (``scope == "portal"``) of a playbook
  installed on the portal; record-scoped ones live on the record's tab.
* **Period** — two calendar days in the portal's time zone (``app.people``), both
  inclusive as a person reads «с 01.03 по 31.03»: the report gets [since, until + 1 day).
  A report whose numbers are current standings (:data:`NO_PERIOD`) ignores it; one that
  counts "as of" a day (:data:`AS_OF`) uses only the end.
* **Manager** — the reports take no manager argument, so the filter keeps the rows of the
  tables that have a person column (:data:`PERSON_COLUMNS`) whose value is the chosen name;
  tables without one are shown whole and flagged ``by_manager = False``.
* **Pipeline** — a report whose rows come from deals of several pipelines
  (``ReportSpec.by_pipeline``) takes the chosen deal pipeline's id and reads its deals only;
  the choices are the portal's deal pipelines from the store (``app.reports.pipelines``).
  The others read one pipeline their playbook owns, or no deals, and ignore it.

Bad input raises :class:`FilterError` with a message in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from app.reports import REPORTS, ReportSpec, Table
from app.reports.pipelines import Pipeline

NO_PERIOD = frozenset({"eshop_clients"})  # clients' current standings
AS_OF = frozenset({"b2b_debts"})  # debts as of the period's end
PERSON_COLUMNS = ("manager", "employee", "rep")


class FilterError(ValueError):
    """A filter value the page must show back to the person who typed it."""


def _msg(lang: str, ru: str, en: str) -> str:
    return en if lang == "en" else ru


def applicable(playbooks: Iterable[str]) -> list[ReportSpec]:
    """The portal-wide reports of ``playbooks``, in the order of their playbook, then title."""
    installed = list(dict.fromkeys(playbooks))
    found = [s for s in REPORTS.values() if s.scope == "portal" and s.playbook in installed]
    return sorted(found, key=lambda s: (installed.index(s.playbook), s.title_ru))


def title(spec: ReportSpec, lang: str) -> str:
    return spec.title_en if lang == "en" else spec.title_ru


@dataclass(frozen=True)
class Period:
    """[since, until) for the report, and the days as typed (``""`` when open)."""

    since: datetime | None
    until: datetime | None
    first_day: str
    last_day: str


def _day(value: str, name: str, lang: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:  # fromisoformat also takes 20240301, which nobody types
            return date.fromisoformat(value)
    except ValueError:
        pass
    return _bad(value, name, lang)


def _bad(value: str, name: str, lang: str):
    label = {"since": ("«с»", "'from'"), "until": ("«по»", "'until'")}[name]
    raise FilterError(
        _msg(
            lang,
            f"Дата {label[0]}: ожидается ГГГГ-ММ-ДД, получено {value[:40]!r}",
            f"Date {label[1]}: expected YYYY-MM-DD, got {value[:40]!r}",
        )
    )


def period(report: str, since: str, until: str, zone: tzinfo, lang: str = "ru") -> Period:
    """The report's period from the page's two days (see module docstring)."""
    first, last = _day(since, "since", lang), _day(until, "until", lang)
    if last is not None and last >= date.max:  # the report's end (the day after) overflows
        _bad(last.isoformat(), "until", lang)
    if first and last and first > last:
        raise FilterError(
            _msg(
                lang,
                "Дата «с» позже даты «по»",
                "The 'from' date is after the 'until' date",
            )
        )
    if report in NO_PERIOD:
        return Period(None, None, "", "")
    if report in AS_OF:
        first = None

    def midnight(day: date | None) -> datetime | None:
        return datetime(day.year, day.month, day.day, tzinfo=zone) if day else None

    end = midnight(last + timedelta(days=1)) if last else None
    return Period(
        midnight(first), end, first.isoformat() if first else "", last.isoformat() if last else ""
    )


def person_column(table: Table) -> int | None:
    for name in PERSON_COLUMNS:
        if name in table.columns:
            return table.columns.index(name)
    return None


def people_in(tables: Iterable[Table]) -> list[str]:
    """Every name in the tables' person columns, sorted: the manager filter's choices."""
    names = set()
    for table in tables:
        col = person_column(table)
        if col is not None:
            names.update(str(row[col]) for row in table.rows if row[col] not in (None, ""))
    return sorted(names, key=str.casefold)


def by_manager(tables: Iterable[Table], manager: str) -> list[tuple[Table, bool]]:
    """(table, filtered?) for each table: rows of ``manager`` only where the table has a
    person column; every table as is when ``manager`` is empty."""
    out = []
    for table in tables:
        col = person_column(table)
        if not manager:
            out.append((table, col is not None))
        elif col is None:
            out.append((table, False))
        else:
            rows = tuple(row for row in table.rows if str(row[col]) == manager)
            out.append((Table(table.title, table.columns, rows, table.note), True))
    return out


def pipeline(value: str, choices: Iterable[Pipeline], lang: str = "ru") -> int | None:
    """The chosen pipeline's id, None for «all» (empty); an id that is not one of the
    portal's deal pipelines is a :class:`FilterError`."""
    value = (value or "").strip()
    if not value:
        return None
    known = {str(p.id): p.id for p in choices}
    if value in known:
        return known[value]
    raise FilterError(
        _msg(
            lang,
            f"Воронка: на портале нет воронки сделок {value[:40]!r}",
            f"Pipeline: the portal has no deal pipeline {value[:40]!r}",
        )
    )
