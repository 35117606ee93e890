"""Room names, identities and ids: pure parts, no sockets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_sockpub import ModelRooms, PubSub, SockPub
from flask_sockpub.rooms.names import user_room
from tests.apps.models import Product, Ticket, User, create_app

local_db = SQLAlchemy()


class Pair(local_db.Model):  # type: ignore[name-defined,misc]
    left = local_db.Column(local_db.Integer, primary_key=True)
    right = local_db.Column(local_db.Integer, primary_key=True)


class Named(PubSub, local_db.Model):  # type: ignore[name-defined,misc]
    code = local_db.Column(local_db.String(10), primary_key=True)


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app()
    with app.app_context():
        yield app


def test_room_names_are_prefixed_and_never_socket_ids_or_user_rooms() -> None:
    assert User.room() == "sockpub:model:user"
    assert User.room(7) == "sockpub:model:user:7"
    assert User.room(7) != user_room("sockpub:model:user:7")
    # Socket ids are URL-safe base64: never a ":".
    assert ":" in User.room() and ":" in User.room(7)


@pytest.mark.parametrize(
    ("model", "given", "expected"),
    [
        (User, "7", 7),
        (User, 7, 7),
        (User, 7.0, 7),
        (User, {"id": "7"}, 7),
        (Product, "A-1", "A-1"),
        (Product, 12, "12"),
        (Product, {"sku": "A-1", "name": "kettle"}, "A-1"),
        (Ticket, "00000000000000000000000000000001", uuid.UUID(int=1)),
        (Ticket, uuid.UUID(int=1), uuid.UUID(int=1)),
        (Ticket, "00000000-0000-0000-0000-000000000001", uuid.UUID(int=1)),
    ],
)
def test_ids_are_converted_through_the_primary_key_columns_type(
    model: Any, given: Any, expected: Any
) -> None:
    rooms = model if isinstance(model, ModelRooms) else SockPub().model(model)
    assert rooms.id_of(given) == expected
    assert rooms.room(given) == rooms.room(expected)


@pytest.mark.parametrize(
    "given", ["seven", 7.5, True, None, {"name": "no id"}, b"7", [7], "9" * 20]
)
def test_ids_that_are_not_ids_of_the_model_are_refused(given: Any) -> None:
    with pytest.raises(ValueError, match="User"):
        User.room(given) if given is not None else SockPub().model(User).id_of(given)


def test_instances_name_their_primary_key_even_once_deleted(app: Flask) -> None:
    from tests.apps.models import db

    user = db.session.get(User, 3)
    assert User.room(user) == "sockpub:model:user:3"
    db.session.delete(user)
    db.session.commit()
    assert User.room(user) == "sockpub:model:user:3"


def test_an_instance_without_primary_key_is_refused_with_a_reason(app: Flask) -> None:
    with pytest.raises(ValueError, match="no primary key yet"):
        User.publish_create(User(name="unsaved"))


def test_publish_create_needs_the_primary_key_in_its_values(app: Flask) -> None:
    with pytest.raises(ValueError, match="carries no 'id'"):
        User.publish_create({"name": "Randy"})


def test_values_must_be_a_dict_or_an_instance(app: Flask) -> None:
    with pytest.raises(TypeError, match="values must be a User or a dict, not list"):
        User.publish_update(7, ["name"])


def test_identity_is_the_lowercase_class_name_or_sockpub_identity() -> None:
    assert SockPub().model(Product).identity == "product"
    assert Ticket.room() == "sockpub:model:pass"
    assert Named.room("x") == "sockpub:model:named:x"


def test_an_identity_with_a_colon_is_refused() -> None:
    class Odd(local_db.Model):  # type: ignore[name-defined,misc]
        __sockpub_identity__ = "odd:one"
        id = local_db.Column(local_db.Integer, primary_key=True)

    with pytest.raises(ValueError, match="without ':'"):
        SockPub().model(Odd)


def test_composite_primary_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="composite primary key"):
        SockPub().model(Pair)


def test_only_models_have_model_rooms() -> None:
    with pytest.raises(TypeError, match="not a SQLAlchemy model"):
        SockPub().model(dict)


def test_the_same_model_rooms_serve_the_mixin_and_sockpub_model() -> None:
    assert SockPub().model(User) is SockPub().model(User)
    assert SockPub().model(User).room(3) == User.room(3)
