"""Protected headers and reverse proxies: what a socket request may not claim about its client.

A proxy puts the client's address and identity in handshake headers
(``X-Forwarded-For``, ``X-Real-IP``, ``X-Forwarded-User``...); a socket
request's own ``headers`` used to replace them, so limits per address and
proxy-authenticated identities could be forged request by request.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_sockpub import SockPub
from flask_sockpub.serving.origins import origin_policy
from flask_sockpub.serving.proxies import client_address
from flask_sockpub.testing import SocketTestClient
from flask_sockpub.wire.socket_request import protected_headers

#: What the proxy in front of the app set on the handshake.
PROXY_SET = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-User": "alice",
    "X-Real-IP": "203.0.113.7",
}
#: What a client tries in its socket requests' headers.
FORGED = {
    "X-Forwarded-For": "198.51.100.1",
    "x-forwarded-user": "admin",
    "X-Real-IP": "198.51.100.1",
    "Forwarded": "for=198.51.100.1",
    "X-Forwarded-Proto": "https",
    "X-Custom": "mine",
}
SEEN = [
    "X-Forwarded-For",
    "X-Forwarded-User",
    "X-Real-IP",
    "Forwarded",
    "X-Forwarded-Proto",
    "X-Custom",
]


def proxied_app(**settings: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", **settings)
    SockPub(app)

    @app.get("/who")
    def who() -> dict[str, Any]:
        return {
            "headers": {name: request.headers.get(name) for name in SEEN},
            "client": client_address(request.environ),
        }

    return app


def socket_of(app: Flask, headers: dict[str, str] | None = None) -> SocketTestClient:
    return app.extensions["sockpub"].sockpub.test_client(app, headers=headers)  # type: ignore[no-any-return]


def test_payload_headers_cannot_replace_what_the_proxy_set_on_the_handshake() -> None:
    app = proxied_app(SOCKPUB_TRUSTED_PROXIES=1)
    forger = socket_of(app, {**PROXY_SET, "X-Custom": "handshake"})
    bystander = socket_of(app, {"X-Forwarded-For": "192.0.2.9"})
    seen = forger.get("/who", headers=FORGED).body
    assert seen["headers"] == {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-User": "alice",
        "X-Real-IP": "203.0.113.7",
        "Forwarded": None,
        "X-Forwarded-Proto": None,
        "X-Custom": "mine",  # not protected: the payload's wins, as before
    }
    assert seen["client"] == "203.0.113.7"
    assert bystander.get("/who").body["client"] == "192.0.2.9"


def test_the_setting_protects_the_apps_own_headers_and_keeps_origin_cookie_and_host() -> None:
    app = proxied_app(SOCKPUB_PROTECTED_HEADERS=["X-Custom"])
    forger = socket_of(app, {"X-Custom": "handshake", "X-Forwarded-User": "alice"})
    seen = forger.get("/who", headers=FORGED).body["headers"]
    assert (seen["X-Custom"], seen["X-Forwarded-User"]) == ("handshake", "admin")
    assert forger.get("/who", headers={"Host": "evil.example", "Cookie": "a=b"}).status_code == 200


@pytest.mark.parametrize(
    ("setting", "protected", "free"),
    [
        (["X-Forwarded-*"], ["x-forwarded-for", "x-forwarded-anything", "origin", "cookie", "host"], ["x-forwarded", "x-real-ip"]),
        (["X-Real-IP", "forwarded"], ["x-real-ip", "forwarded"], ["x-forwarded-for"]),
        ([], ["origin", "cookie", "host"], ["x-forwarded-for"]),
    ],
)  # fmt: skip
def test_protected_header_names_are_case_insensitive_and_a_star_ends_a_prefix(
    setting: list[str], protected: list[str], free: list[str]
) -> None:
    headers = protected_headers(setting)
    assert [name in headers for name in protected + free] == [True] * len(protected) + [
        False
    ] * len(free)


@pytest.mark.parametrize("setting", ["X-Real-IP", [7], ["X-*-For"], ["bad name"]])
def test_protected_headers_refuse_what_is_not_a_list_of_header_names(setting: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="SOCKPUB_PROTECTED_HEADERS"):
        proxied_app(SOCKPUB_PROTECTED_HEADERS=setting)


@pytest.mark.parametrize("setting", [-1, "1", True, 1.5])
def test_trusted_proxies_must_be_a_count(setting: Any) -> None:
    with pytest.raises(ValueError, match="SOCKPUB_TRUSTED_PROXIES"):
        proxied_app(SOCKPUB_TRUSTED_PROXIES=setting)


# Which proxies are believed, for the client's address and for the origin check.

HANDSHAKE = {
    "REMOTE_ADDR": "10.0.0.2",
    "HTTP_HOST": "10.0.0.5:8000",
    "wsgi.url_scheme": "http",
    "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7",
    "HTTP_X_FORWARDED_HOST": "chat.example",
    "HTTP_X_FORWARDED_PROTO": "https",
}


def declared(way: str) -> Flask:
    """An app declaring one proxy in front of it: by the setting, ProxyFix inside or outside SockPub."""
    if way == "setting":
        return proxied_app(SOCKPUB_TRUSTED_PROXIES=1)
    if way == "proxyfix before init_app":
        app = Flask(__name__)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_host=1, x_proto=1)  # type: ignore[method-assign]
        SockPub(app)
        return app
    app = proxied_app()
    if way == "proxyfix after init_app":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_host=1, x_proto=1)  # type: ignore[method-assign]
    return app


@pytest.mark.parametrize(
    ("way", "address", "origin_allowed"),
    [
        ("none", "10.0.0.2", False),
        ("setting", "203.0.113.7", True),
        ("proxyfix before init_app", "203.0.113.7", True),
        ("proxyfix after init_app", "203.0.113.7", True),
    ],
)
def test_forwarded_headers_count_only_behind_declared_proxies(
    way: str, address: str, origin_allowed: bool
) -> None:
    app = declared(way)
    environ = {**HANDSHAKE, "flask.app": app}
    assert client_address(environ) == address
    policy = origin_policy(None)
    assert callable(policy)
    assert policy("https://chat.example", environ) is origin_allowed
    assert policy("http://evil.example", environ) is False


def test_an_environ_a_proxyfix_in_front_already_rewrote_is_taken_as_it_is() -> None:
    app = declared("proxyfix after init_app")
    rewritten: dict[str, Any] = {}

    def capture(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        rewritten.update(environ)
        return []

    ProxyFix(capture, x_for=1)(dict(HANDSHAKE), lambda *a: None)  # type: ignore[arg-type]
    # Not rewritten twice: the last address but one would be 198.51.100.1.
    assert client_address({**rewritten, "flask.app": app}) == "203.0.113.7"
