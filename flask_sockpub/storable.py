"""What client text and JSON a database can store and a socket can carry, checked before they reach either.

A client can send text no database takes: a lone surrogate (``"\\ud800"``,
which Python's standard ``json`` decodes from an HTTP body but no driver can
encode), or a NUL (``"\\u0000"``, which PostgreSQL cannot hold in text, and
psycopg refuses with a ``ValueError`` rather than a database error). And it can
nest JSON deeper than SockPub encodes it: orjson, which encodes a socket
request's ``data`` into the replayed request's body, stops at
:data:`MAX_NESTING` levels, and Flask's own JSON parser (the standard library's,
bounded by Python's recursion limit of 1,000 frames) could not take back much
more. The functions here say what is wrong, so that the client gets a 400
naming the field instead of a 500.
"""

from __future__ import annotations

from typing import Any

#: Deepest nesting of a request's JSON data (orjson's encoding limit): the
#: body or ``data`` object itself counts one level.
MAX_NESTING = 254

#: Dialect names of the databases that cannot store NUL in text.
NUL_REFUSING_DIALECTS = frozenset({"postgresql"})


def text_problem(text: str, *, nul_refused: bool = False) -> str | None:
    """What makes ``text`` unstorable, for the client, or ``None``.

    :param nul_refused: the database cannot store NUL characters in text
        (PostgreSQL; see :data:`NUL_REFUSING_DIALECTS`).
    """
    if nul_refused and "\x00" in text:
        return "text cannot contain NUL (\\u0000) characters on this database"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"not valid Unicode text: a lone surrogate {text[exc.start]!r} at character {exc.start}"
    return None


def value_problem(value: Any, *, level: int = 1, nul_refused: bool = False) -> str | None:
    """What makes a decoded JSON value unstorable (its strings, keys and nesting), or ``None``.

    :param level: the level ``value`` sits at: 1 for a whole body (a flat
        object is one deep, an object of arrays two), 2 for a value in it.
    """
    pending: list[tuple[Any, int]] = [(value, level)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item, nul_refused=nul_refused)
            if problem is not None:
                return problem
        elif isinstance(item, (list, dict)):
            if depth > MAX_NESTING:
                return f"nested more than {MAX_NESTING} levels deep"
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                pending.extend((child, depth + 1) for child in item.values())
            else:
                pending.extend((child, depth + 1) for child in item)
    return None


def refuses_nul(dialect_name: str) -> bool:
    """Whether a database of this SQLAlchemy dialect cannot store NUL in text."""
    return dialect_name in NUL_REFUSING_DIALECTS
