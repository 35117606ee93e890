"""``param()``: Sails 0.9's ``req.param``, the same over HTTP and sockets."""

from __future__ import annotations

from typing import Any

from flask import request

#: The only body types Werkzeug parses into ``request.form``; asking ``form``
#: of any other request builds an empty one at some cost.
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def param(name: str, default: Any = None) -> Any:
    """The request parameter ``name``, wherever the client put it.

    Looks in the JSON or form body first, then the query string, then the URL
    rule's arguments; ``default`` when none has it::

        @app.route("/echo")
        def echo():
            return {"success": True, "message": param("message")}
    """
    # One lookup of the request object: each ``request.x`` goes through the
    # context-local proxy, and this runs in every view that reads a parameter.
    current = request._get_current_object()  # type: ignore[attr-defined]
    if current.is_json:
        body = current.get_json(silent=True)
        if isinstance(body, dict) and name in body:
            return body[name]
    elif current.mimetype in FORM_MIMETYPES:
        form = current.form
        if name in form:
            return form[name]
    args = current.args
    if name in args:
        return args[name]
    view_args = current.view_args or {}
    return view_args.get(name, default)
