"""The line records: immutable, typed, and lossless to and from plain dicts."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchio import ErrorLine, LineError, OutputLine, RequestLine, Response

extras = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(
        lambda key: key not in {"custom_id", "method", "url", "body", "id", "response", "error"}),
    st.none() | st.integers() | st.text(max_size=5), max_size=4)


@given(extra=extras, custom_id=st.text(min_size=1, max_size=10))
def test_request_line_round_trips_with_unknown_fields(extra: dict[str, Any],
                                                      custom_id: str) -> None:
    data = {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings",
            "body": {"model": "m", "input": "x"}, **extra}
    record = RequestLine.from_dict(data, line=7)
    assert record.to_dict() == data
    assert (record.line, record.model, record.extra) == (7, "m", extra)


@given(extra=extras, status_code=st.integers(min_value=100, max_value=599),
       kind=st.sampled_from([OutputLine, ErrorLine]))
def test_result_lines_round_trip(extra: dict[str, Any], status_code: int,
                                 kind: type[OutputLine]) -> None:
    data = {"id": "batch_req_1", "custom_id": "a",
            "response": {"status_code": status_code, "request_id": "req_1",
                         "body": {"ok": True}, "x-extra": 1},
            "error": None, **extra}
    record = kind.from_dict(data, line=3)
    assert isinstance(record, kind)
    assert record.to_dict() == data
    assert record.response is not None
    assert record.response.ok == (200 <= status_code < 300)


def test_error_line_with_an_error_object() -> None:
    data = {"id": None, "custom_id": "b", "response": None,
            "error": {"code": "batch_expired", "message": "expired", "param": None}}
    record = ErrorLine.from_dict(data)
    assert record.error is not None and record.error.code == "batch_expired"
    assert record.error.extra == {"param": None}
    assert record.to_dict() == data


@pytest.mark.parametrize(("missing", "code"), [("custom_id", "missing_custom_id"),
                                                ("method", "invalid_method"),
                                                ("url", "missing_url"),
                                                ("body", "missing_body")])
def test_request_line_without_a_field_raises_its_code(missing: str, code: str) -> None:
    data = {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}
    del data[missing]
    with pytest.raises(LineError) as raised:
        RequestLine.from_dict(data, line=4)
    assert (raised.value.code, raised.value.line) == (code, 4)


def test_result_line_with_a_bad_status_code() -> None:
    with pytest.raises(LineError) as raised:
        OutputLine.from_dict({"custom_id": "a", "response": {"status_code": "200"}})
    assert raised.value.code == "invalid_result_line"


def test_records_are_immutable() -> None:
    record = Response.from_dict({"status_code": 200, "request_id": None, "body": None})
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status_code = 500  # type: ignore[misc]
