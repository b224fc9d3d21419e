"""Typed, immutable records for the three line kinds of the OpenAI batch format.

A :class:`RequestLine` is one line of an input file; an :class:`OutputLine` one line of an
output file; an :class:`ErrorLine` one line of an error file (the same shape). Each keeps its
line number and converts to and from plain dicts losslessly: fields the format does not
define are kept in ``extra`` and written back by ``to_dict``. Checking a line's content is
:mod:`batchio.validate`'s job; these records only carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import LineError

_Result = TypeVar("_Result", bound="OutputLine")


def _split(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


def _require_mapping(data: object, what: str, line: int | None) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise LineError(f"{what} must be a JSON object", code="not_an_object", line=line)
    return data


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One request: ``custom_id``, ``method``, ``url`` and the endpoint's ``body``."""

    custom_id: str
    method: str
    url: str
    body: Mapping[str, Any]
    line: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("custom_id", "method", "url", "body")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, line: int | None = None) -> RequestLine:
        """Build from a parsed line; raises :class:`LineError` when a field is missing."""
        data = _require_mapping(data, "a request line", line)
        for name, code in (("custom_id", "missing_custom_id"), ("method", "invalid_method"),
                           ("url", "missing_url"), ("body", "missing_body")):
            if name not in data:
                custom_id = data.get("custom_id")
                raise LineError(f"request line has no {name}", code=code, line=line,
                                custom_id=custom_id if isinstance(custom_id, str) else None)
        return cls(
            custom_id=data["custom_id"],
            method=data["method"],
            url=data["url"],
            body=data["body"],
            line=line,
            extra=_split(data, cls._FIELDS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"custom_id": self.custom_id, "method": self.method, "url": self.url,
                "body": self.body, **self.extra}

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None


@dataclass(frozen=True, slots=True)
class Response:
    """The ``response`` of a result line: the HTTP ``status_code``, ``request_id`` and body."""

    status_code: int
    request_id: str | None
    body: Any
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("status_code", "request_id", "body")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, line: int | None = None) -> Response:
        data = _require_mapping(data, "response", line)
        status_code = data.get("status_code")
        if not isinstance(status_code, int) or isinstance(status_code, bool):
            raise LineError("response.status_code must be an integer",
                            code="invalid_result_line", line=line, param="response.status_code")
        return cls(status_code=status_code, request_id=data.get("request_id"),
                   body=data.get("body"), extra=_split(data, cls._FIELDS))

    def to_dict(self) -> dict[str, Any]:
        return {"status_code": self.status_code, "request_id": self.request_id,
                "body": self.body, **self.extra}

    @property
    def ok(self) -> bool:
        """True for a 2xx status code."""
        return 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class ResultError:
    """The ``error`` of a result line: a ``code`` and a ``message``."""

    code: str | None
    message: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("code", "message")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, line: int | None = None) -> ResultError:
        data = _require_mapping(data, "error", line)
        return cls(code=data.get("code"), message=data.get("message"),
                   extra=_split(data, cls._FIELDS))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line of an output file: ``id``, ``custom_id``, ``response`` and ``error``."""

    id: str | None
    custom_id: str
    response: Response | None
    error: ResultError | None
    line: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("id", "custom_id", "response", "error")

    @classmethod
    def from_dict(cls: type[_Result], data: Mapping[str, Any], *,
                  line: int | None = None) -> _Result:
        """Build from a parsed line; raises :class:`LineError` when it is not a result line."""
        data = _require_mapping(data, "a result line", line)
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str):
            raise LineError("result line has no string custom_id",
                            code="invalid_result_line", line=line, param="custom_id")
        response = data.get("response")
        error = data.get("error")
        return cls(
            id=data.get("id"),
            custom_id=custom_id,
            response=None if response is None else Response.from_dict(response, line=line),
            error=None if error is None else ResultError.from_dict(error, line=line),
            line=line,
            extra=_split(data, cls._FIELDS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "custom_id": self.custom_id,
            "response": None if self.response is None else self.response.to_dict(),
            "error": None if self.error is None else self.error.to_dict(),
            **self.extra,
        }


@dataclass(frozen=True, slots=True)
class ErrorLine(OutputLine):
    """One line of an error file: the same shape as an output line, usually with ``error``."""
