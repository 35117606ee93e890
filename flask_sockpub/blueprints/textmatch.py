"""Case-insensitive text matching that gives the same rows on SQLite and PostgreSQL.

``contains``, ``startsWith``, ``endsWith`` and ``like`` compare both sides
lowercased with the full Unicode mapping (Python's :meth:`str.lower`): ``"ZOË"``
matches ``"zoë"`` and ``"ÅSA"`` matches ``"åsa"``. Neither database does that
on its own: SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, and
PostgreSQL's ``lower()``/``ILIKE`` follow the database's locale (a ``C``
database folds ASCII only; ``C.UTF-8`` maps ``"İ"`` to ``"i"`` where Unicode
says ``"i̇"``, and ignores final sigma). So:

* on PostgreSQL, text is lowered under the ICU root collation, ``lower(x COLLATE
  "und-x-icu")``, whatever the database's own locale (PostgreSQL must be built
  with ICU, as the Debian, Ubuntu, Red Hat, Homebrew and Docker packages are);
* on SQLite, text is lowered by a function ``sockpub_lower`` that
  :func:`register_sqlite_lower` adds to every connection of an engine (SockPub
  does it for the app's Flask-SQLAlchemy engines in ``init_app``): Python's
  :meth:`str.lower`, evaluated row by row, so such filters scan the table.

PostgreSQL's ICU ``lower()`` and Python's agree on every code point but NUL and
the surrogates (the test suite checks it).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import ColumnElement, Engine, String, event, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

#: Name of the lowercase function registered on SQLite connections.
SQLITE_LOWER = "sockpub_lower"
#: The PostgreSQL collation whose ``lower()`` is Unicode's, independent of the locale.
POSTGRESQL_COLLATION = "und-x-icu"
#: The MariaDB collation whose ``lower()`` is Unicode's (MariaDB 10.10 and later).
MARIADB_COLLATION = "utf8mb4_uca1400_ai_ci"
#: The escape character of every pattern built here (and of ``like`` patterns clients send).
ESCAPE = "\\"

_MATCHES = {"contains": "%{}%", "startsWith": "{}%", "endsWith": "%{}"}


class UnicodeLower(FunctionElement[str]):
    """``lower(x)`` with the full Unicode lowercase mapping on SQLite and PostgreSQL."""

    type = String()
    name = SQLITE_LOWER
    inherit_cache = True


def matches(expression: ColumnElement[Any], operator: str, text: str) -> ColumnElement[bool]:
    """``expression`` matched case-insensitively against ``text``.

    :param operator: ``contains``, ``startsWith`` or ``endsWith`` (``%`` and ``_``
        in ``text`` are literal characters), or ``like`` (``text`` is a pattern
        whose ``%`` and ``_`` are wildcards, see :func:`check_like_pattern`).
    """
    if operator == "like":
        pattern = text
    else:
        pattern = _MATCHES[operator].format(escape_like(text))
    return UnicodeLower(expression).like(UnicodeLower(literal(pattern, String())), escape=ESCAPE)


def escape_like(text: str) -> str:
    """``text`` with ``%``, ``_`` and the escape character made literal in a pattern."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def check_like_pattern(pattern: str) -> None:
    """Refuse a ``like`` pattern whose backslash does not escape ``%``, ``_`` or itself.

    The databases disagree about the rest (PostgreSQL rejects a trailing
    backslash, SQLite matches nothing), so neither reaches them.

    :raises ValueError: with a message for the client.
    """
    index = pattern.find(ESCAPE)
    while index != -1:
        if pattern[index + 1 : index + 2] not in ("%", "_", ESCAPE):
            raise ValueError(
                "in a like pattern a backslash must be followed by %, _ or another backslash"
            )
        index = pattern.find(ESCAPE, index + 2)


@compiles(UnicodeLower)
def _lower_elsewhere(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    # Other databases get their own lower(): case-insensitive, but not promised identical.
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(UnicodeLower, "postgresql")
def _lower_postgresql(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "{POSTGRESQL_COLLATION}")'


@compiles(UnicodeLower, "mysql")
@compiles(UnicodeLower, "mariadb")
def _lower_mariadb(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    if not getattr(compiler.dialect, "is_mariadb", False):
        return f"lower({text})"  # MySQL: its own lower(), not promised identical
    # Unicode 14's case mapping (MariaDB 10.10+), 1:1: U+0130, which Python
    # lowers to two code points, and a word-final capital sigma, which Python
    # lowers to final sigma, are replaced first. Then a binary collation, so
    # that LIKE compares the lowered texts exactly (accents included).
    unified = (
        f"regexp_replace(replace(convert(({text}) using utf8mb4), '\u0130', 'i\u0307'), "
        f"'{_MARIADB_FINAL_SIGMA}', '\u03c2')"
    )
    return f"(lower({unified} collate {MARIADB_COLLATION}) collate utf8mb4_bin)"


#: A capital sigma after a cased letter and not before one (Python's Final_Sigma,
#: less case-ignorable characters before it), as a MariaDB string literal's text.
_MARIADB_FINAL_SIGMA = r"(?<=[\\p{Ll}\\p{Lu}\\p{Lt}])Σ(?![\\p{Mn}\\p{Me}]*[\\p{Ll}\\p{Lu}\\p{Lt}])"


@compiles(UnicodeLower, "sqlite")
def _lower_sqlite(element: UnicodeLower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


def _python_lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.lower() if isinstance(value, str) else value


def register_sqlite_lower(engine: Engine) -> None:
    """Give every SQLite connection of ``engine`` the ``sockpub_lower`` function (once per engine).

    At checkout rather than connect, so connections opened before this call get
    it too; the flag lives in the pool entry's ``info``, which lasts exactly as
    long as the DBAPI connection.
    """
    if engine.dialect.name == "sqlite" and not event.contains(
        engine, "checkout", _add_sqlite_lower
    ):
        event.listen(engine, "checkout", _add_sqlite_lower)


def _add_sqlite_lower(dbapi_connection: Any, entry: ConnectionPoolEntry, proxy: Any) -> None:
    if SQLITE_LOWER not in entry.info and isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(SQLITE_LOWER, 1, _python_lower, deterministic=True)
        entry.info[SQLITE_LOWER] = True
