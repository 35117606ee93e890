"""Blueprint writes over HTTP from another site's page are refused; Flask-WTF checks HTTP only.

A page of another site can make the victim's browser post a ``<form>``
(urlencoded or multipart) with her cookies: it used to create a note as her.
With Flask-WTF's ``CSRFProtect`` on, socket POSTs used to be refused for
lack of the page's token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_sockpub import SockPub
from flask_sockpub.testing import SocketTestClient

OWN = "http://localhost"  # Flask's test client asks for http://localhost/
FOREIGN = "http://evil.example"
ALLOWED = "http://partner.example"


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Note(db.Model):  # type: ignore[name-defined,misc]
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]


def notes_app(*, csrf: str | None = None, **settings: Any) -> Flask:
    """An app with a Note blueprint; ``csrf``: set up CSRFProtect ``"before"`` or ``"after"`` SockPub."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="test", SQLALCHEMY_DATABASE_URI="sqlite://", WTF_CSRF_TIME_LIMIT=None, **settings
    )
    db.init_app(app)
    if csrf == "before":
        CSRFProtect(app)
    sockpub = SockPub(app, db=db)
    sockpub.blueprint(Note, shortcuts=True)
    if csrf == "after":
        CSRFProtect(app)

    @app.get("/form")
    def form() -> str:
        return render_template_string("{{ csrf_token() }}")

    with app.app_context():
        db.create_all()
    return app


def texts(app: Flask) -> list[str]:
    return [note["text"] for note in app.test_client().get("/note").get_json()]


def bystander_of(app: Flask) -> SocketTestClient:
    """A socket listing the notes: it is in the class room and hears every create."""
    socket = app.extensions["sockpub"].sockpub.test_client(app, headers={"Origin": OWN})
    assert socket.get("/note").status_code == 200
    socket.received()
    return socket


def heard(socket: SocketTestClient) -> list[str]:
    return [item.data["data"]["text"] for item in socket.received("message")]


Write = Callable[[FlaskClient, dict[str, str]], Any]
CROSS_SITE_WRITES: dict[str, Write] = {
    "form": lambda http, headers: http.post("/note", data={"text": "pwned"}, headers=headers),
    "multipart": lambda http, headers: http.post(
        "/note", data={"text": "pwned"}, content_type="multipart/form-data", headers=headers
    ),
    "json": lambda http, headers: http.post("/note", json={"text": "pwned"}, headers=headers),
    "update": lambda http, headers: http.put("/note/1", data={"text": "pwned"}, headers=headers),
    "destroy": lambda http, headers: http.delete("/note/1", headers=headers),
    "shortcut": lambda http, headers: http.get("/note/create?text=pwned", headers=headers),
}


@pytest.mark.parametrize("write", CROSS_SITE_WRITES)
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": FOREIGN},
        {"Referer": FOREIGN + "/page.html"},
        {"Origin": "null"},
        {"Origin": FOREIGN, "Referer": OWN + "/"},
    ],
    ids=["origin", "referer", "opaque-origin", "origin-wins"],
)
def test_a_write_from_another_sites_page_is_refused_and_nothing_is_written(
    write: str, headers: dict[str, str]
) -> None:
    app = notes_app()
    http = app.test_client()
    assert http.post("/note", json={"text": "mine"}).status_code == 201
    bystander = bystander_of(app)

    answer = CROSS_SITE_WRITES[write](http, headers)
    assert answer.status_code == 403
    assert "cross-site write refused" in answer.get_json()["error"]
    assert texts(app) == ["mine"]
    assert http.post("/note", json={"text": "after"}).status_code == 201
    assert heard(bystander) == ["after"]
    assert [note["text"] for note in bystander.get("/note").body] == ["mine", "after"]


@pytest.mark.parametrize(
    "headers",
    [{"Origin": OWN}, {"Referer": OWN + "/notes"}, {}, {"Origin": ALLOWED}],
    ids=["same-origin", "same-origin-referer", "no-browser", "allowed-origin"],
)
@pytest.mark.parametrize("body", ["form", "multipart"])
def test_same_origin_allowed_origin_and_non_browser_writes_are_allowed(
    headers: dict[str, str], body: str
) -> None:
    app = notes_app(SOCKPUB_CORS_ALLOWED_ORIGINS=[ALLOWED])
    bystander = bystander_of(app)
    answer = CROSS_SITE_WRITES[body](app.test_client(), headers)
    assert answer.status_code == 201
    assert texts(app) == ["pwned"]
    assert heard(bystander) == ["pwned"]


def test_any_origin_may_write_when_the_setting_is_a_star() -> None:
    app = notes_app(SOCKPUB_CORS_ALLOWED_ORIGINS="*")
    assert CROSS_SITE_WRITES["form"](app.test_client(), {"Origin": FOREIGN}).status_code == 201


def test_behind_a_declared_proxy_the_forwarded_origin_is_the_servers_own() -> None:
    proxied = {"Origin": "https://notes.example", "X-Forwarded-Host": "notes.example"}
    proxied["X-Forwarded-Proto"] = "https"
    assert CROSS_SITE_WRITES["form"](notes_app().test_client(), proxied).status_code == 403
    behind = notes_app(SOCKPUB_TRUSTED_PROXIES=1)
    assert CROSS_SITE_WRITES["form"](behind.test_client(), proxied).status_code == 201


def test_reads_from_another_sites_page_are_not_refused() -> None:
    app = notes_app()
    assert app.test_client().get("/note", headers={"Origin": FOREIGN}).status_code == 200


# Flask-WTF's CSRFProtect: HTTP forms keep their token check, socket requests need none.


def token_of(http: FlaskClient) -> str:
    return http.get("/form").get_data(as_text=True)


@pytest.mark.parametrize("order", ["before", "after"])
def test_with_csrfprotect_http_forms_need_the_token_and_socket_requests_do_not(order: str) -> None:
    app = notes_app(csrf=order)
    http = app.test_client()
    token = token_of(http)
    bystander = bystander_of(app)
    page_socket = app.extensions["sockpub"].sockpub.test_client(
        app, headers={"Origin": OWN}, flask_test_client=http
    )

    assert http.post("/note", data={"text": "no token"}, headers={"Origin": OWN}).status_code == 400
    assert page_socket.post("/note", {"text": "over the socket"}).status_code == 201
    with_token = http.post("/note", data={"text": "with token", "csrf_token": token})
    assert with_token.status_code == 201
    # The origin check still runs for HTTP, token or not.
    stolen = http.post(
        "/note", data={"text": "x", "csrf_token": token}, headers={"Origin": FOREIGN}
    )
    assert stolen.status_code == 403
    assert texts(app) == ["over the socket", "with token"]
    assert heard(bystander) == ["over the socket", "with token"]


def test_csrf_exemptions_and_an_apps_own_check_default_are_kept() -> None:
    app = notes_app(csrf="after", WTF_CSRF_CHECK_DEFAULT=False)
    # The app checks by itself (here: not at all): SockPub adds no check.
    assert app.test_client().post("/note", data={"text": "unchecked"}).status_code == 201
    exempted = notes_app(csrf="after")
    exempted.extensions["csrf"].exempt(exempted.blueprints["sockpub_note"])
    assert exempted.test_client().post("/note", data={"text": "exempt"}).status_code == 201
