"""Under an event loop, a slow PostgreSQL query on one socket does not hold up the others.

A database driver that waits for PostgreSQL inside C code blocks the whole
event loop: every other socket waits as long as the slowest query. The
deployment docs say what each driver needs (psycogreen for psycopg2 under
gevent; nothing for psycopg 3 under gevent, nor for psycopg2 under eventlet,
whose monkey-patching covers it); here each set-up serves a slow list on one
socket while a bystander's request on another socket must be answered first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import live_server
from tests.databases import POSTGRES, postgres_database

#: (async mode, SQLAlchemy driver name)
SETUPS = [("gevent", "psycopg2"), ("gevent", "psycopg"), ("eventlet", "psycopg2")]
SLOW = 2.0


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with postgres_database("sockpub_green") as url:
        yield url


def wait_until_sleeping(database_name: str, timeout: float = 15.0) -> None:
    """Return once a ``pg_sleep`` query runs in ``database_name`` (a hang guard, not a timing)."""
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s AND state = 'active'",
                    (database_name, "%pg_sleep%"),
                )
                if cursor.fetchone()[0]:  # type: ignore[index]
                    return
            time.sleep(0.02)
        raise TimeoutError("the slow query never started")
    finally:
        admin.close()


@pytest.mark.parametrize(
    ("async_mode", "driver"), SETUPS, ids=[f"{mode}-{driver}" for mode, driver in SETUPS]
)
def test_a_bystander_is_answered_while_another_socket_waits_for_a_slow_query(
    database: str, async_mode: str, driver: str
) -> None:
    url = f"postgresql+{driver}://" + database.split("://", 1)[1]
    with live_server(
        "tests.apps.green:create_app", async_mode=async_mode, env={"DATABASE_URL": url}
    ) as server:
        assert requests.get(f"{server.url}/driver", timeout=10).json() == {"driver": driver}
        answered: list[str] = []
        with Client(server.url) as slow_socket, Client(server.url) as bystander:

            def slow_list() -> None:
                slow = slow_socket.get("/slow", headers={"X-Sleep": str(SLOW)}, timeout=30)
                assert slow.status_code == 200, slow.body
                answered.append("slow")

            slow_thread = threading.Thread(target=slow_list)
            slow_thread.start()
            wait_until_sleeping(database.rsplit("/", 1)[1])
            quick = bystander.get("/item", timeout=30)
            answered.append("bystander")
            slow_thread.join(timeout=30)
        assert quick.status_code == 200 and len(quick.body) == 2
        assert answered == ["bystander", "slow"], server.log()[-2000:]


WARNING_CHECK = """
{patch}
import logging, sys
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(message)s")
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sockpub import SockPub
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+{driver}://postgres@127.0.0.1/postgres"
db = SQLAlchemy(app)
SockPub(app, db=db)
print("ready")
"""
GEVENT = "from gevent import monkey; monkey.patch_all()"
PSYCOGREEN = "from psycogreen.gevent import patch_psycopg; patch_psycopg()"


@pytest.mark.parametrize(
    ("patch", "driver", "warned"),
    [
        (GEVENT, "psycopg2", True),
        (f"{GEVENT}; {PSYCOGREEN}", "psycopg2", False),
        ("import eventlet; eventlet.monkey_patch()", "psycopg", True),
    ],
    ids=["gevent-psycopg2", "gevent-psycopg2-psycogreen", "eventlet-psycopg"],
)
def test_init_app_warns_about_a_driver_that_would_block_the_loop(
    patch: str, driver: str, warned: bool
) -> None:
    from tests.test_async_modes import python_in_a_subprocess

    output = python_in_a_subprocess(WARNING_CHECK.format(patch=patch, driver=driver))
    assert output.endswith("ready")
    assert ("stalls behind a slow query" in output or "blocks its loop" in output) is warned, output
