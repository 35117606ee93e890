"""Client values a blueprint refuses, field by field."""

from __future__ import annotations

from typing import TypeVar

from flask import Response, jsonify


class FieldErrors(ValueError):
    """Client values that are wrong, field by field; answered ``{"error": ..., "fields": {...}}``.

    :param fields: each offending field (or parameter) -> what was wrong with it.
    :param status: 400, or 409 for a clash with a unique value.
    """

    def __init__(self, message: str, fields: dict[str, str], status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.status = status

    @classmethod
    def of(cls: type[_FieldErrorsT], fields: dict[str, str], status: int = 400) -> _FieldErrorsT:
        """The error for these fields, with a message naming every one."""
        details = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        return cls(f"{cls.summary}: {details}", fields, status)

    #: How :meth:`of` starts its message.
    summary = "invalid values"


_FieldErrorsT = TypeVar("_FieldErrorsT", bound=FieldErrors)


def field_errors(error: FieldErrors) -> tuple[Response, int]:
    """``{"error": ..., "fields": {...}}`` with the error's status."""
    return jsonify(error=error.message, fields=error.fields), error.status
