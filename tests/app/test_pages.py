"""``GET /`` and ``GET /install`` answer a readable page; the installer POST is untouched."""

from __future__ import annotations


def test_home_says_what_the_app_is_and_how_a_portal_opens_it(flask_client, services):
    resp = flask_client.get("/")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    text = resp.get_data(as_text=True)
    assert "Bitrix24 sales automation" in text
    assert f"{services.settings.app_base_url}/install" in text
    assert "How a portal opens it" in text


def test_install_in_a_browser_explains_itself_instead_of_405(flask_client):
    resp = flask_client.get("/install")
    assert resp.status_code == 200
    assert "installer URL" in resp.get_data(as_text=True)


def test_the_installer_post_still_goes_to_the_install_handler(flask_client):
    """Only GET is ours: a POST without the portal's fields is refused by install.py."""
    resp = flask_client.post("/install", data={})
    assert resp.status_code == 400
    assert "AUTH_ID" in resp.get_data(as_text=True)


def test_a_portal_frame_open_gets_the_same_page(flask_client):
    resp = flask_client.post("/", data={"AUTH_ID": "x", "PLACEMENT": "DEFAULT"})
    assert resp.status_code == 200
    assert "Bitrix24 sales automation" in resp.get_data(as_text=True)
