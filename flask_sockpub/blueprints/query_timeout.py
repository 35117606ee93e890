"""A time bound on the queries of one request, on every database SockPub supports.

A list request with expensive criteria can keep a database busy for seconds,
and under SQLite (whose queries run inside the server process) freeze every
other socket that long. :func:`time_bound` stops each query that runs longer
than a given time, the way each database allows:

* PostgreSQL: ``statement_timeout``, set for the transaction (``set_config(...,
  true)``, i.e. ``SET LOCAL``) and put back as it was afterwards;
* MariaDB: ``max_statement_time`` for the session, put back afterwards;
* SQLite: a progress handler on the connection that interrupts the query once
  its time is up, removed afterwards.

Other databases run the queries unbounded. A query stopped this way raises
:class:`QueryTimeout` (answered 503); the session is rolled back first, so it
stays usable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from .columns import mysql_errno, sqlstate

#: SQLite virtual machine instructions between two looks at the clock.
SQLITE_CHECK_EVERY = 1000
#: PostgreSQL's SQLSTATE for a statement cancelled by ``statement_timeout``.
POSTGRESQL_QUERY_CANCELED = "57014"
#: MariaDB's error number for a statement stopped by ``max_statement_time``.
MARIADB_STATEMENT_TIMEOUT = 1969

_POSTGRESQL_SET = text(
    "SELECT previous.setting, set_config('statement_timeout', :milliseconds, true) "
    "FROM (SELECT current_setting('statement_timeout') AS setting OFFSET 0) AS previous"
)
_POSTGRESQL_RESTORE = text("SELECT set_config('statement_timeout', :setting, true)")


class QueryTimeout(Exception):
    """A query ran past its time bound; answered 503 ``{"error": ...}``."""

    status = 503

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TimeBound:
    """The bound in force inside :func:`time_bound`; :meth:`restart` gives the next query its full time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = monotonic() + seconds
        #: Set by the SQLite progress handler when it stopped a query.
        self.fired = False

    def restart(self) -> None:
        """Give the next query the whole bound again (PostgreSQL and MariaDB bound each query anyway)."""
        self.deadline = monotonic() + self.seconds

    def sqlite_progress(self) -> int:
        """The SQLite progress handler: non-zero (stop the query) once the deadline has passed."""
        if monotonic() > self.deadline:
            self.fired = True
            return 1
        return 0


@contextmanager
def time_bound(
    session: Session | scoped_session[Any],
    seconds: float | None,
    *,
    mapper: Any = None,
    what: str = "the query",
) -> Iterator[TimeBound]:
    """Stop any query run through ``session`` in the block that takes longer than ``seconds``.

    :param seconds: the bound for each query; ``None`` or 0 for none.
    :param mapper: the model whose database the queries go to (for sessions
        with several binds).
    :param what: how the error names the queries (``"the list query"``).
    :raises QueryTimeout: a query was stopped; the session has been rolled back.

    ::

        with time_bound(db.session, 5, mapper=User):
            users = db.session.scalars(select(User).where(...)).all()
    """
    bound = TimeBound(seconds or 0.0)
    if not seconds:
        yield bound
        return
    connection = session.connection(
        bind_arguments={"mapper": mapper} if mapper is not None else None
    )
    dialect = connection.dialect
    try:
        if dialect.name == "postgresql":
            with _postgresql(connection, seconds):
                yield bound
        elif getattr(dialect, "is_mariadb", False):
            with _mariadb(connection, seconds):
                yield bound
        elif dialect.name == "sqlite":
            with _sqlite(connection, bound):
                yield bound
        else:
            yield bound
    except DBAPIError as exc:
        if not (bound.fired or _is_timeout(exc)):
            raise
        session.rollback()
        raise QueryTimeout(
            f"{what} took longer than the {seconds:g} s allowed (SOCKPUB_LIST_QUERY_TIMEOUT); "
            "ask for less (fewer text conditions, a narrower where)"
        ) from None


@contextmanager
def _postgresql(connection: Connection, seconds: float) -> Iterator[None]:
    milliseconds = str(max(1, round(seconds * 1000)))
    previous = connection.execute(_POSTGRESQL_SET, {"milliseconds": milliseconds}).scalar_one()
    yield
    # Only reached without an error: a cancelled statement aborts the
    # transaction, whose rollback undoes the setting anyway.
    connection.execute(_POSTGRESQL_RESTORE, {"setting": previous})


@contextmanager
def _mariadb(connection: Connection, seconds: float) -> Iterator[None]:
    # A session variable, not transactional: put back whatever happens.
    previous = connection.exec_driver_sql("SELECT @@session.max_statement_time").scalar_one()
    connection.exec_driver_sql(f"SET @@session.max_statement_time = {float(seconds)!r}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"SET @@session.max_statement_time = {float(previous)!r}")


@contextmanager
def _sqlite(connection: Connection, bound: TimeBound) -> Iterator[None]:
    dbapi_connection = connection.connection.dbapi_connection
    if not isinstance(dbapi_connection, sqlite3.Connection):
        yield
        return
    dbapi_connection.set_progress_handler(bound.sqlite_progress, SQLITE_CHECK_EVERY)
    try:
        yield
    finally:
        dbapi_connection.set_progress_handler(None, 0)


def _is_timeout(error: DBAPIError) -> bool:
    return (
        sqlstate(error.orig) == POSTGRESQL_QUERY_CANCELED
        or mysql_errno(error.orig) == MARIADB_STATEMENT_TIMEOUT
    )
