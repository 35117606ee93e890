"""Databases of a test run's own: a fresh PostgreSQL or MariaDB database, dropped afterwards.

Other engineers' runs share the machine's PostgreSQL (127.0.0.1:5432, trust
auth) and MariaDB (127.0.0.1:3306, root without a password), so every run
creates a database with a unique name rather than assume any database is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pymysql
import sqlalchemy as sa
from psycopg2 import sql

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
#: SQLAlchemy's URL scheme per PostgreSQL driver: a plain ``postgresql://`` is
#: psycopg 3 with SQLAlchemy 2.1, the default users get.
POSTGRES_SCHEMES = {"psycopg": "postgresql", "psycopg2": "postgresql+psycopg2"}


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    """A SQLite file in ``folder``: yield its SQLAlchemy URL, delete the file on exit."""
    path = folder / "test.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


def database_of_kind(kind: str, name: str, folder: Path) -> Any:
    """A fresh database of ``kind`` (``sqlite``, ``postgresql``, ``mariadb``): a context manager yielding its URL.

    ``name`` prefixes the server databases' names; the SQLite file goes in ``folder``.
    """
    if kind == "sqlite":
        return sqlite_database(folder)
    if kind == "postgresql":
        return postgres_database(f"sockpub_{name}")
    return mariadb_database(f"sockpub_{name}")


@contextmanager
def postgres_database(prefix: str = "sockpub_test", driver: str = "psycopg") -> Iterator[str]:
    """Create a uniquely named database, yield its SQLAlchemy URL, drop it on exit.

    The database uses the ``C`` locale, so text sorts by code point as it does
    on SQLite, and nothing case-related comes from the locale (criteria must
    not rely on it).
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
                ).format(sql.Identifier(name))
            )
        try:
            scheme = POSTGRES_SCHEMES[driver]
            yield f"{scheme}://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
        finally:
            with admin.cursor() as cursor:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                cursor.execute(drop.format(sql.Identifier(name)))
    finally:
        admin.close()


@contextmanager
def mariadb_database(prefix: str = "sockpub_test") -> Iterator[str]:
    """Create a uniquely named MariaDB database, yield its SQLAlchemy URL, drop it on exit.

    The database keeps the server's default character set and collation
    (``utf8mb4`` with a case-insensitive collation), as users' databases do:
    the blueprints must give the same answers there as elsewhere.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield f"mysql+pymysql://{MARIADB['user']}@{MARIADB['host']}:{MARIADB['port']}/{name}?charset=utf8mb4"
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


def create_shared_sqlite(metadata: Any, path: str) -> None:
    """Create ``metadata``'s tables in the SQLite file several processes of a test share.

    In WAL mode, so readers never wait for another process's writer.
    """
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()
