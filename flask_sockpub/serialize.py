"""Model instances as JSON-safe dicts, for messages and blueprint answers.

An instance becomes a dict of its column attributes, keyed by attribute name.
Relationships are left out: a related row shows as its foreign-key column
(``author_id``), and no relationship is ever loaded to serialise an instance.

Values are made JSON-safe on the way: datetimes, dates and times become ISO
8601 text, ``Decimal`` and ``UUID`` become text, enums their value. Bytes are
refused, since JSON cannot carry them faithfully: the error names the column.

A model that wants another shape defines ``__sockpub_serialize__``::

    class User(PubSub, db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80))
        password_hash = db.Column(db.String(200))

        def __sockpub_serialize__(self):
            return {"id": self.id, "name": self.name}

Whatever it returns is made JSON-safe the same way, so it may hold datetimes.

Hidden fields (the model's ``__sockpub_hidden__``, and every field a blueprint
of the model hides) are left out of the dict either way. An instance behind a
``LocalProxy`` (Flask-Login's ``current_user``) is serialised as the instance.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from werkzeug.local import LocalProxy

from .model import hidden_of

#: Name of the method a model defines to serialise itself.
SERIALIZE_HOOK = "__sockpub_serialize__"

#: Types JSON carries as they are.
_PLAIN = (str, int, float, bool, type(None))


def serialize(instance: Any) -> dict[str, Any]:
    """A model instance as a JSON-safe dict: its columns, or what its hook returns, without hidden fields.

    :param instance: a model instance, or a ``LocalProxy`` to one (``current_user``).
    :raises TypeError: a column holds a value JSON cannot carry (bytes, or a
        type this module does not know); the message names the column.
    """
    instance = unproxied(instance)
    hidden = hidden_of(type(instance))
    hook: Callable[[], Any] | None = getattr(instance, SERIALIZE_HOOK, None)
    if hook is not None:
        data = hook()
        if not isinstance(data, Mapping):
            raise TypeError(
                f"{type(instance).__name__}.{SERIALIZE_HOOK}() must return a dict, "
                f"not {type(data).__name__}"
            )
        if hidden:
            data = {key: value for key, value in data.items() if key not in hidden}
        return json_safe(data, type(instance).__name__)  # type: ignore[no-any-return]
    model = type(instance).__name__
    return {
        key: json_safe(getattr(instance, key), f"{model}.{key}")
        for key in column_keys(type(instance))
        if key not in hidden
    }


def unproxied(value: Any) -> Any:
    """``value``, or the object behind it when it is a ``LocalProxy`` (``current_user``)."""
    if isinstance(value, LocalProxy):
        return value._get_current_object()  # type: ignore[attr-defined]
    return value


def without_hidden(model: type[Any], values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` (a dict of a ``model``'s fields) without the model's hidden fields."""
    hidden = hidden_of(model)
    if not hidden or hidden.isdisjoint(values.keys()):
        return values
    return {key: value for key, value in values.items() if key not in hidden}


def column_keys(model: type[Any]) -> list[str]:
    """The attribute names of ``model``'s columns, in mapping order."""
    return [prop.key for prop in sa.inspect(model).column_attrs]


def json_safe(value: Any, where: str) -> Any:
    """``value`` with everything JSON cannot carry turned into text.

    :param where: what holds the value (``"User.joined"``), for error messages.
    """
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item, f"{where}[{index}]") for index, item in enumerate(value)]
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _converter_for(value)
    if convert is None:
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"{where} holds bytes, which JSON cannot carry: leave the column out with "
                f"{SERIALIZE_HOOK}(), or store it as text"
            )
        raise TypeError(
            f"{where} holds a {type(value).__name__}, which SockPub cannot put in JSON: "
            f"define {SERIALIZE_HOOK}() on the model to say how"
        )
    return convert(value)


def _iso(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    datetime.datetime: _iso,
    datetime.date: _iso,
    datetime.time: _iso,
    decimal.Decimal: str,
    uuid.UUID: str,
}


def _converter_for(value: Any) -> Callable[[Any], Any] | None:
    # Subclasses (pendulum's DateTime, enum members, ...) miss the exact-type table.
    if isinstance(value, enum.Enum):
        return lambda member: json_safe(member.value, repr(member))
    for kind, convert in _CONVERTERS.items():
        if isinstance(value, kind):
            return convert
    return None
