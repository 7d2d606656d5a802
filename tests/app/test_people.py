"""People's names and the portal's clock: read from the emulator over HTTP, cached per
portal, refreshed when stale, and used to show a person or a time.

Official docs: ``api-reference/user/user-get.md`` (NAME, LAST_NAME, TIME_ZONE; every user),
``api-reference/common/system/server-time.md`` (the portal server's time with its offset),
``api-reference/data-types.md`` (REST datetimes are in the server's zone).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app import people
from app.store import installations

M = "member-people"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _client(services, emulator):
    with services.session.begin() as s:
        installations.upsert_verified(
            s, M, domain=emulator.domain, auth_mode="webhook",
            webhook_url=emulator.webhook_url(), status="active",
        )  # fmt: skip
    return services.portal(M)


def _load(services, fallback=None):
    with services.session() as s:
        return people.People.load(s, M, fallback)


def test_names_and_the_portal_offset_come_from_the_portal(emulator, make_services):
    services = make_services(emulator_address=emulator.domain)
    client = _client(services, emulator)
    assert _load(services).name(3) == "#3"  # nothing read yet: the id, never a crash
    count = people.refresh(services.session, client, M, T0)
    assert count == len(emulator.portal.users)
    found = _load(services)
    assert found.name(3) == "Иван Петров"
    assert found.name(5) == "Дмитрий Соколов"
    assert found.name(999) == "#999" and found.name(0) == "" and found.name(None, "—") == "—"
    # the emulator runs at +03:00 (server.time); times are shown in it, not in UTC
    assert found.when(T0) == "01.12.2026 12:00"
    assert found.label() == "UTC+03:00"


def test_a_renamed_user_shows_up_once_the_copy_is_stale(emulator, make_services):
    services = make_services(emulator_address=emulator.domain)
    client = _client(services, emulator)
    assert people.refresh_if_stale(services.session, client, M, T0)
    emulator.portal.users[3]["LAST_NAME"] = "Петров-Водкин"
    assert not people.refresh_if_stale(services.session, client, M, T0 + timedelta(minutes=5))
    assert _load(services).name(3) == "Иван Петров"  # fresh enough: no REST call
    assert people.refresh_if_stale(services.session, client, M, T0 + people.TTL)
    assert _load(services).name(3) == "Иван Петров-Водкин"


def test_a_user_with_an_own_time_zone_sees_times_in_it(emulator, make_services):
    services = make_services(emulator_address=emulator.domain)
    emulator.portal.users[4]["TIME_ZONE"] = "Asia/Yekaterinburg"
    people.refresh(services.session, _client(services, emulator), M, T0)
    found = _load(services)
    assert found.when(T0, user_id=4) == "01.12.2026 14:00"
    assert found.when(T0, user_id=3) == "01.12.2026 12:00"


def test_without_a_read_the_playbook_zone_then_utc_apply():
    assert people.People({}, None, "Asia/Novosibirsk").when(T0) == "01.12.2026 16:00"
    assert people.People({}, None).when(T0) == "01.12.2026 09:00"
    assert people.People({}, "-05:00").label() == "UTC-05:00"
    assert people.offset_of("2024-08-05T09:02:13+00:00") == "+00:00"


def test_after_sync_reports_widgets_and_timers_show_names_and_portal_time(emulator, make_services):
    """The issue's «#5» and UTC: after ``b24 sync`` the same reads give names and +03:00."""
    from app.reports.labels import Labels
    from app.timers import service
    from app.web import create_app
    from app.widgets._store import user_name

    services = make_services(emulator_address=emulator.domain)
    _client(services, emulator)
    with services.session.begin() as s:
        service.start_timer(s, M, kind="k.x", due_at=T0, record=("lead", 1), key="k1")
    runner = create_app(services=services).test_cli_runner()
    with services.session() as s:
        assert Labels(s, M).person(5) == "#5"

    synced = runner.invoke(args=["b24", "sync", "--portal", emulator.domain, "--entity", "lead"])
    assert synced.exit_code == 0, synced.output
    assert f"people: {len(emulator.portal.users)} names" in synced.output

    with services.session() as s:
        assert Labels(s, M).person(5) == "Дмитрий Соколов"
        assert user_name(s, M, 2) == "Ольга Смирнова"
    listed = runner.invoke(args=["b24", "timers", "list", "--portal", emulator.domain])
    assert listed.exit_code == 0, listed.output
    assert "2026-12-01T12:00:00+03:00" in listed.output
