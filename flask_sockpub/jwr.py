"""``Response``: a JWR as clients see it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Response:
    """The answer to a socket request: the JWR's status, body and headers."""

    status_code: int
    #: Decoded JSON for a JSON response, else the text.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_jwr(cls, jwr: Any) -> Response:
        """Read a JWR ``{"body", "statusCode", "headers"}``."""
        if not isinstance(jwr, dict) or "statusCode" not in jwr:
            raise ValueError(f"not a JWR: {jwr!r:.200}")
        return cls(int(jwr["statusCode"]), jwr.get("body"), dict(jwr.get("headers") or {}))

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status_code < 400

    @property
    def error(self) -> str | None:
        """The ``error`` message of an error body, if there is one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error if isinstance(error, str) else None
