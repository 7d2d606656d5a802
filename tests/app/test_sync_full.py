"""Full sync from the emulator: keyset batches, resumable from the checkpoint."""

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from app.rules.naming import PlainNaming
from app.store import mirror
from app.store.base import Base
from app.sync import full
from app.sync.context import PortalContext
from tests.app._events_fakes import emu_requests, gateway_client

M = "member-full"


@pytest.fixture
def ctx(emulator, redis_conn):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    emulator.portal.crm.bulk_seed(1, [{"title": f"lead {n}"} for n in range(5230)])
    client = gateway_client(emulator, redis_conn, M)
    return PortalContext(M, sessionmaker(engine), client, PlainNaming(), redis_conn)


def _count(ctx):
    with ctx.session_factory() as s:
        return s.scalar(select(func.count()).select_from(mirror.MirrorRecord))


def test_full_sync_mirrors_everything_in_minimal_requests(ctx, emulator):
    before = emu_requests(emulator)
    result = full.full_sync(ctx, "lead")
    assert result.records == 5230 and _count(ctx) == 5230
    assert emu_requests(emulator) - before == 3  # 2,500 records per batch request
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "lead", 5230)["title"] == "lead 5229"
        assert mirror.checkpoint(s, M, "lead", "reconcile").last_modified is not None
        assert len(mirror.stage_history(s, M, "lead", 1)) == 1


def test_interrupted_sync_resumes_after_the_last_stored_id(ctx, monkeypatch):
    real = ctx.client.iter_list

    def dying(method, params, batch_pages=50, **kw):
        for n, item in enumerate(real(method, params, batch_pages=batch_pages, **kw)):
            if n == 2600:
                raise ConnectionError("network gone")
            yield item

    monkeypatch.setattr(ctx.client, "iter_list", dying)
    with pytest.raises(ConnectionError):
        full.full_sync(ctx, "lead")
    assert _count(ctx) == 2500  # the first flushed chunk survived
    monkeypatch.setattr(ctx.client, "iter_list", real)
    result = full.full_sync(ctx, "lead")
    assert result.resumed_from == 2500 and result.records == 2730
    assert _count(ctx) == 5230
