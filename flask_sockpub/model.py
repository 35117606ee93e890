"""What SockPub reads of a model: its identity, its primary key, its hidden fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import NoInspectionAvailable

#: Class attribute naming the model in rooms, messages and URLs (default: the
#: lowercase class name).
IDENTITY_ATTRIBUTE = "__sockpub_identity__"
#: Class attribute listing the model's hidden fields: never serialised into any
#: message, answer or log.
HIDDEN_ATTRIBUTE = "__sockpub_hidden__"
#: Where the fields hidden by a model's blueprints are kept, on the class
#: itself: blueprint name -> fields.
_HIDDEN_BY_BLUEPRINTS = "_sockpub_hidden_by_blueprints"
#: The merged set, kept on the class and rebuilt when a blueprint hides fields.
_HIDDEN_CACHE = "_sockpub_hidden"


class UnsupportedModel(TypeError, ValueError):
    """A class SockPub cannot work with: not mapped, or a composite primary key.

    Both a ``TypeError`` and a ``ValueError``: model rooms raised the first and
    blueprints the second before they shared this check.
    """


class PrimaryKey(NamedTuple):
    """A model's single-column primary key."""

    #: The mapped attribute's name (``id``, ``code``, ...).
    attribute: str
    column: sa.Column[Any]


def identity_of(model: type[Any]) -> str:
    """The model's name in rooms and messages.

    ``__sockpub_identity__`` when the model sets it, else its class name in lowercase.
    """
    identity = getattr(model, IDENTITY_ATTRIBUTE, None) or model.__name__.lower()
    if not isinstance(identity, str) or not identity or ":" in identity:
        raise ValueError(
            f"{model.__name__}.{IDENTITY_ATTRIBUTE} must be a non-empty string without ':', "
            f"not {identity!r}"
        )
    return identity


def primary_key_of(model: type[Any]) -> PrimaryKey:
    """The single-column primary key of a mapped class.

    :raises UnsupportedModel: ``model`` is not a SQLAlchemy model, or its primary key
        has several columns (model rooms and blueprints need one).
    """
    try:
        mapper = sa.inspect(model)
    except NoInspectionAvailable:
        raise UnsupportedModel(f"{model!r} is not a SQLAlchemy model") from None
    if len(mapper.primary_key) != 1:
        columns = ", ".join(column.name for column in mapper.primary_key) or "none"
        raise UnsupportedModel(
            f"{model.__name__} has a composite primary key ({columns}); "
            "SockPub needs a single-column primary key"
        )
    column = mapper.primary_key[0]
    return PrimaryKey(mapper.get_property_by_column(column).key, column)


def hidden_of(model: type[Any]) -> frozenset[str]:
    """The fields of ``model`` never serialised: its ``__sockpub_hidden__`` and its blueprints' ``hidden``.

    A server process knows its blueprints; a process that builds none (a
    worker) knows only the model's own declaration.
    """
    cached = model.__dict__.get(_HIDDEN_CACHE)
    if cached is None:
        cached = _merged_hidden(model)
        setattr(model, _HIDDEN_CACHE, cached)
    return cached  # type: ignore[no-any-return]


def hide(model: type[Any], blueprint: str, fields: Iterable[str]) -> None:
    """Record that blueprint ``blueprint`` of ``model`` hides ``fields``: hidden for the model from now on."""
    by_blueprint = model.__dict__.get(_HIDDEN_BY_BLUEPRINTS)
    if by_blueprint is None:
        by_blueprint = {}
        setattr(model, _HIDDEN_BY_BLUEPRINTS, by_blueprint)
    by_blueprint[blueprint] = frozenset(fields)
    stale = [model]
    while stale:
        klass = stale.pop()
        if _HIDDEN_CACHE in klass.__dict__:
            delattr(klass, _HIDDEN_CACHE)
        stale.extend(klass.__subclasses__())


def declared_hidden(model: type[Any]) -> frozenset[str]:
    """The fields the model itself declares hidden (``__sockpub_hidden__``)."""
    declared = getattr(model, HIDDEN_ATTRIBUTE, ())
    if isinstance(declared, str) or not isinstance(declared, Iterable):
        raise TypeError(
            f"{model.__name__}.{HIDDEN_ATTRIBUTE} must be a list or tuple of attribute names, "
            f"not {declared!r}"
        )
    return frozenset(declared)


def _merged_hidden(model: type[Any]) -> frozenset[str]:
    merged = set(declared_hidden(model))
    # Blueprints of a parent model hide for its subclasses too.
    for klass in model.__mro__:
        merged.update(*klass.__dict__.get(_HIDDEN_BY_BLUEPRINTS, {}).values())
    return frozenset(merged)
