"""Issue #20, bad input at the edge: oversized ids and out-of-range values in the Object
merge API and the widget frame are a clear 4xx before anything is read or written."""

from __future__ import annotations

import pytest

from app.store import installations
from tests.app._widgets_world import MEMBER, install, open_widget
from tests.support.bearers import bearer_headers

TOKEN = "app-token-objects"


@pytest.fixture
def api(services, flask_client):
    with services.session.begin() as s:
        installations.upsert_verified(
            s, MEMBER + "-o", domain="o.example", auth_mode="webhook", status="active",
            webhook_url="http://127.0.0.1:1/rest/1/x/", application_token=TOKEN,
            playbooks=["metal"],
        )  # fmt: skip

    def call(method, path, json=None):
        return getattr(flask_client, method)(
            f"/objects/{MEMBER}-o/{path}",
            json=json,
            headers=bearer_headers(services, MEMBER + "-o"),
        )

    return call


@pytest.mark.parametrize(
    "body",
    [
        {"main_id": 2**63, "duplicate_ids": [2]},
        {"main_id": 1, "duplicate_ids": [2**70]},
        {"main_id": "9" * 5000, "duplicate_ids": [2]},
        {"main_id": 1, "duplicate_ids": [2], "choices": {"title": 2**64}},
        {"main_id": 1, "duplicate_ids": [2], "requested_by": -5},
        {"main_id": 1, "duplicate_ids": [2], "choices": {f"f{i}": 1 for i in range(201)}},
    ],
)
def test_merge_bodies_out_of_range_are_400_and_enqueue_nothing(api, services, body):
    for path in ("merge/preview", "merge"):
        resp = api("post", path, body)
        assert resp.status_code == 400, (path, resp.get_data(as_text=True))
    assert services.queue("sync").count == 0


def test_huge_object_ids_in_the_path_are_404(api):
    assert api("get", f"{2**70}/candidates").status_code == 404
    assert api("get", "merge/" + "k" * 5000).status_code == 404


@pytest.mark.parametrize("record_id", [str(2**63), "9" * 5000, "-1", "1e9", "0"])
def test_widget_record_id_out_of_range_is_400(services, flask_client, record_id):
    install(services, playbooks=("metal",))
    resp = open_widget(
        flask_client, "lead_object", placement="CRM_LEAD_DETAIL_TAB", options={"ID": record_id}
    )
    assert resp.status_code == 400
    assert "Traceback" not in resp.get_data(as_text=True)


def test_the_cli_token_is_a_page_key_bearer_the_api_accepts(api, services, flask_client):
    """``b24 objects token`` prints what the merge window's frame gets: a bearer signed with
    the page key (not the application token), accepted by the API for this portal only."""
    from app.objects import access
    from app.web import create_app

    runner = create_app(services=services).test_cli_runner()
    out = runner.invoke(args=["b24", "objects", "token", "--portal", MEMBER + "-o"])
    assert out.exit_code == 0, out.output
    bearer = out.output.strip()
    assert not access.allowed(TOKEN, MEMBER + "-o", bearer=bearer)  # not token-signed
    url = f"/objects/{MEMBER}-o/1/candidates"
    passed = flask_client.get(url, headers={"Authorization": f"Bearer {bearer}"})
    assert passed.status_code == 404  # past the credential: the mirror has no Object 1
    other = f"/objects/{MEMBER}/1/candidates"
    assert flask_client.get(other, headers={"Authorization": f"Bearer {bearer}"}).status_code == 401
