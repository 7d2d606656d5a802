"""Report widget pages render store data, escaped (order_timing tab). The b2b reports are on
the app's reports page: tests/app/test_report_pages.py."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.store import mirror
from app.store.base import Base
from app.store.migrate import import_models
from app.widgets import WidgetContext, WidgetError, order_timing

M = "member-1"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class _Services:
    def __init__(self, engine):
        self.engine = engine

    @contextmanager
    def session(self):
        with Session(self.engine) as s:
            yield s


@pytest.fixture
def services():
    engine = create_engine("sqlite://")
    import_models()  # reports also read the installer's records and the people directory
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        mirror.put(s, M, "deal", 1, {"id": 1, "stageId": "<script>x</script>"}, at=T0)
        mirror.put(s, M, "deal", 1, {"id": 1, "stageId": "PAID"}, at=T0 + timedelta(hours=2))
        s.commit()
    return _Services(engine)


def _ctx(services, code, record_id=None, options=None):
    return WidgetContext(M, "p.example", code, "X", record_id, options or {}, "en", "b", services)


def test_order_timing_tab_escapes_stage_names(services):
    html = order_timing.render(_ctx(services, "order_timing", record_id=1))
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<td>2.0</td>" in html  # 2 hours in the first stage


def test_order_timing_needs_a_deal(services):
    with pytest.raises(WidgetError):
        order_timing.render(_ctx(services, "order_timing"))


def test_order_timing_tab_compares_with_the_deals_of_its_own_pipeline(services):
    with services.session() as s:
        # a reclamation (pipeline 5) that sat 30 hours in its stage must not weigh on orders
        mirror.put(s, M, "deal", 2, {"id": 2, "categoryId": 5, "stageId": "C5:NEW"}, at=T0)
        moved = {"id": 2, "categoryId": 5, "stageId": "C5:DONE"}
        mirror.put(s, M, "deal", 2, moved, at=T0 + timedelta(hours=30))
        s.commit()
    html = order_timing.render(_ctx(services, "order_timing", record_id=1))
    assert "C5:NEW" not in html and "30.0" not in html
    other = order_timing.render(_ctx(services, "order_timing", record_id=2))
    assert "C5:NEW" in other and "30.0" in other  # its own pipeline's averages
    assert "PAID" not in other
