"""Readable names for report rows: stages, list values and people, from the store only.

A report row that says ``C3:SHIPPED`` or manager ``7`` makes the reader open the portal to
decode it. The installer's records map a portal's real stage ids and list-value ids back to
the playbook's stable codes, whose titles are in the playbook data; people's names come from
``app.people`` (the portal's users as last read by sync or the periodic reconciliation).
Whatever cannot be resolved (a stage the app did not create, a portal installed before the
mapping existed) is shown as stored, never dropped.
"""

from __future__ import annotations

from typing import Any

from app.playbooks import NAMES, load


def _stage_titles() -> dict[str, str]:
    return {s.code: s.name.ru for name in NAMES for s in load(name).all_stages()}


def _option_titles() -> dict[tuple[str, str, str], str]:
    return {
        (f.entity, f.code, o.code): o.label.ru
        for name in NAMES
        for f in load(name).fields
        for o in f.options
    }


class Labels:
    """Names for one portal's report (build once per report run)."""

    def __init__(self, session, member_id: str) -> None:
        from app.installers.mapping import resolve

        self.session, self.member_id = session, member_id
        self.naming: Any = resolve(session, member_id)  # empty for a portal never installed
        self._stages = _stage_titles()
        self._options = _option_titles()
        self._people: Any = None

    def stage(self, entity: str, raw: Any) -> str:
        """«Отгружен в доставку» for the real stage id ``C3:SHIPPED``; the id when unknown."""
        raw = str(raw or "")
        codes = self.naming.stage_codes(entity, raw) if raw else []
        for code in [*codes, raw]:
            if code in self._stages:
                return self._stages[code]
        return raw or "—"

    def option(self, entity: str, field_code: str, raw: Any) -> str | None:
        """The label of list value ``raw`` (the portal's enum id) of field ``field_code``;
        None when the field is empty, the raw value when it is not one of the playbook's."""
        if raw in (None, "", [], 0, "0"):
            return None
        value = raw[0] if isinstance(raw, list) else raw
        for (ent, code, option), title in self._options.items():
            if ent != entity or code != field_code:
                continue
            try:
                if int(self.naming.enum_id(code, option, entity)) == int(value):
                    return title
            except (KeyError, TypeError, ValueError):
                continue  # not installed here, or a value that is not an enum id
        return str(value)

    def field_value(self, entity: str, record: dict, field_code: str) -> Any:
        """A mirrored record's value of field ``field_code`` (by its real name)."""
        for key in (self.naming.field_name(entity, field_code), field_code):
            if key in record:
                return record[key]
        return None

    def person(self, user_id: Any) -> str:
        """«Имя Фамилия» of a portal user, ``#id`` when the portal never listed them."""
        if self._people is None:
            from app.people import People

            self._people = People.load(self.session, self.member_id)  # one read per report
        return self._people.name(user_id, empty="—")
