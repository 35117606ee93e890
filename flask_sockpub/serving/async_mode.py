"""Which async mode a server runs in: threading, gevent or eventlet."""

from __future__ import annotations

import sys

ASYNC_MODES = ("threading", "gevent", "eventlet")


def pick_async_mode() -> str:
    """gevent or eventlet when the process is already monkey-patched by it, else threading.

    An installed but unpatched eventlet is never picked: it breaks the Redis
    queue and warns on import.
    """
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    if "eventlet" in sys.modules:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            return "eventlet"
    return "threading"
