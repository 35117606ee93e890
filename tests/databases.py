"""Databases of a test run's own: a fresh PostgreSQL database, dropped afterwards.

Other engineers' runs share the machine's PostgreSQL (127.0.0.1:5432, trust
auth), so every run creates a database with a unique name rather than assume
any database is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


@contextmanager
def postgres_database(prefix: str = "sockpub_test") -> Iterator[str]:
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
            yield "postgresql+psycopg2://{user}@{host}:{port}/".format(**POSTGRES) + name
        finally:
            with admin.cursor() as cursor:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                cursor.execute(drop.format(sql.Identifier(name)))
    finally:
        admin.close()
