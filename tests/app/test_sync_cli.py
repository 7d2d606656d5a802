"""``flask b24 sync``: full sync into the migrated store, resume, incremental, through the gateway."""

from sqlalchemy import func, select

from app.store import installations, mirror

M = "member-cli"


def _install(services, emulator):
    with services.session() as s:
        installations.upsert_verified(
            s,
            M,
            domain=emulator.domain,
            auth_mode="webhook",
            webhook_url=emulator.webhook_url(),
            status="active",
        )
        s.commit()


def _mirrored(services, entity):
    with services.session() as s:
        q = (
            select(func.count())
            .select_from(mirror.MirrorRecord)
            .where(mirror.MirrorRecord.entity == entity)
        )
        return s.scalar(q)


def test_sync_command_mirrors_leads_then_incremental_picks_up_changes(emulator, make_services):
    from app.web import create_app

    services = make_services(emulator_address=emulator.domain)
    _install(services, emulator)
    emulator.portal.crm.bulk_seed(1, [{"title": f"l{n}"} for n in range(120)])
    runner = create_app(services=services).test_cli_runner()

    result = runner.invoke(args=["b24", "sync", "--portal", M, "--entity", "lead"])
    assert result.exit_code == 0, result.output
    assert "lead: 120 records, last id 120" in result.output
    assert _mirrored(services, "lead") == 120

    again = runner.invoke(args=["b24", "sync", "--portal", M, "--entity", "lead"])
    assert "lead: 120 records" in again.output  # a finished sync starts over (re-read all)

    hook = emulator.webhook_url()
    import requests

    requests.post(
        hook + "crm.item.update",
        json={"entityTypeId": 1, "id": 7, "fields": {"title": "changed"}},
        timeout=10,
    )
    inc = runner.invoke(args=["b24", "sync", "--portal", M, "--entity", "lead", "--incremental"])
    assert inc.exit_code == 0, inc.output
    assert "1 processed" in inc.output
    with services.session() as s:
        assert mirror.get(s, M, "lead", 7)["title"] == "changed"


def test_unknown_portal_is_a_clear_error(make_services):
    from app.web import create_app

    services = make_services()
    result = (
        create_app(services=services)
        .test_cli_runner()
        .invoke(args=["b24", "sync", "--portal", "nope"])
    )
    assert result.exit_code == 1
    assert "no installation with member_id 'nope'" in result.output
