"""The live-app helper serves real HTTP on loopback and releases its port on stop."""

import socket

import requests
from flask import Flask, request

from tests.support.live_app import LiveApp, free_port, live_app


def _echo_app():
    app = Flask("echo")

    @app.post("/echo")
    def echo():
        return request.get_data(as_text=True)

    return app


def test_serves_posts_on_the_reserved_port_and_frees_it_on_stop():
    port = free_port()
    server = LiveApp(_echo_app(), port)
    assert server.url == f"http://127.0.0.1:{port}"
    assert requests.post(server.url + "/echo", data="a=1", timeout=5).text == "a=1"
    server.stop()
    server.stop()  # twice is harmless (fixtures' finally blocks)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
    with socket.socket() as again:  # and the port can be bound again
        again.bind(("127.0.0.1", port))


def test_context_manager_stops_even_when_the_body_fails():
    try:
        with live_app(_echo_app()) as server:
            port = server.port
            assert requests.post(server.url + "/echo", data="x", timeout=5).text == "x"
            raise RuntimeError("test body failed")
    except RuntimeError:
        pass
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
