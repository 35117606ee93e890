"""Whether the database driver in use waits for the database without blocking the event loop.

Under gevent and eventlet, a driver that waits inside C code blocks every
socket of the process while one query runs. :func:`blocking_driver` names
such a set-up, so that ``init_app`` can warn about it; docs/deployment.rst
says how to set each driver up.
"""

from __future__ import annotations

import sys


def blocking_driver(async_mode: str) -> str | None:
    """What would block the event loop of ``async_mode`` among the imported database drivers, or ``None``."""
    if async_mode not in ("gevent", "eventlet"):
        return None
    extensions = sys.modules.get("psycopg2.extensions")
    if extensions is not None and extensions.get_wait_callback() is None:
        fix = (
            "pip install psycogreen, then call psycogreen.gevent.patch_psycopg() right after "
            "monkey.patch_all()"
            if async_mode == "gevent"
            else "call eventlet.monkey_patch() (which covers psycopg2) before importing it"
        )
        return f"psycopg2 waits for PostgreSQL without yielding to {async_mode}: every socket stalls behind a slow query; {fix}"
    if async_mode == "eventlet" and "psycopg" in sys.modules:
        return (
            "psycopg 3 does not support eventlet and blocks its loop while a query runs: "
            "serve with gevent, or use psycopg2"
        )
    return None
