"""What SockPub reads of a model: its identity and its primary key."""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import NoInspectionAvailable

#: Class attribute naming the model in rooms, messages and URLs (default: the
#: lowercase class name).
IDENTITY_ATTRIBUTE = "__sockpub_identity__"


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
