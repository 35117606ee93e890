"""``param()``: the seed's ``req.param``, the same over HTTP and sockets."""
from __future__ import annotations

from typing import Any

from flask import request


def param(name: str, default: Any = None) -> Any:
    """The request parameter ``name``, wherever the client put it.

    Looks in the JSON or form body first, then the query string, then the URL
    rule's arguments; ``default`` when none has it::

        @app.route("/echo")
        def echo():
            return {"success": True, "message": param("message")}
    """
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and name in body:
            return body[name]
    elif name in request.form:
        return request.form[name]
    if name in request.args:
        return request.args[name]
    view_args = request.view_args or {}
    return view_args.get(name, default)
