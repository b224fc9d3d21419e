"""Result line shapes shared by several providers, each a function from a line to an Outcome.

OpenAI-shaped results (``response.status_code`` / ``error``) serve OpenAI, Azure, Groq,
Together, Mistral and vLLM; Anthropic, Gemini, Bedrock and Vertex AI each have their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import GenericAlias
from typing import Annotated, Any

import msgspec
import orjson

from ..results import USAGE_FIELDS, choice_fields, token_counts
from ._profile import Outcome

# Outcomes are made once per result line: tuple.__new__ skips NamedTuple's Python __new__.
_new = tuple.__new__

# HTTP statuses worth resubmitting unchanged: rate limited, or the server's fault.
_RETRYABLE_HTTP = frozenset({408, 409, 429})


# Quota and billing errors: HTTP 429 like a rate limit, but resubmitting fails the same way
# until credits are added or a spend limit is raised (OpenAI's error-codes guide: the type
# ``insufficient_quota`` and the codes under it, read 2026-12).
_QUOTA_ERRORS = frozenset({"insufficient_quota", "credit_balance_exhausted",
                           "organization_spend_limit_exceeded", "project_spend_limit_exceeded",
                           "organization_usage_limit_exceeded", "billing_hard_limit_reached"})


def _retryable_http(status_code: int) -> bool:
    return status_code in _RETRYABLE_HTTP or status_code >= 500


def _quota_error(error: Any) -> bool:
    """True for an error object that says the account is out of quota or over a spend
    limit (by its code or its type): never worth resubmitting as it is."""
    return isinstance(error, dict) and (error.get("code") in _QUOTA_ERRORS
                                        or error.get("type") in _QUOTA_ERRORS)


def _outcome(*fields: Any) -> Outcome:
    return _new(Outcome, (*fields, None, None))


def openai_shape(
    expired_codes: frozenset[str],
    cancelled_codes: frozenset[str],
    retryable_codes: frozenset[str],
) -> Callable[[Mapping[str, Any]], Outcome]:
    """The reader of OpenAI-shaped result lines, whichever file they are in.

    A line's content decides its status: a non-null ``error`` is expired, cancelled or
    failed by its code; otherwise ``response.status_code`` decides (2xx succeeded). An HTTP
    failure has ``error: null`` and its error object inside ``response.body.error``.
    """

    def classify(line: Mapping[str, Any]) -> Outcome:
        custom_id = line["custom_id"]
        if not isinstance(custom_id, str):
            raise TypeError("custom_id is not a string")
        response = line.get("response")
        error = line.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, dict) else None
            code = code if isinstance(code, str) else "error"
            if code in expired_codes:
                return _outcome(custom_id, "expired", response, error, code, True)
            if code in cancelled_codes:
                return _outcome(custom_id, "cancelled", response, error, code, True)
            status_code = response.get("status_code") if isinstance(response, dict) else None
            retryable = (code in retryable_codes or (
                isinstance(status_code, int) and _retryable_http(status_code))) \
                and not _quota_error(error)
            return _outcome(custom_id, "failed", response, error, code, retryable)
        if not isinstance(response, dict):
            raise ValueError("result line has neither a response nor an error")
        status_code = response["status_code"]
        if not isinstance(status_code, int) or isinstance(status_code, bool):
            raise TypeError("response.status_code is not an integer")
        if 200 <= status_code < 300:
            _check_answer_body(response.get("body"))
            return _outcome(custom_id, "succeeded", response, None, None, False)
        body = response.get("body")
        body_error = body.get("error") if isinstance(body, dict) else None
        code = None
        if isinstance(body_error, dict):
            code = body_error.get("code") or body_error.get("type")
        code = code if isinstance(code, str) else f"http_{status_code}"
        retryable = (_retryable_http(status_code) or code in retryable_codes) \
            and not _quota_error(body_error)
        return _outcome(custom_id, "failed", response, body_error, code, retryable)

    return classify


# A successful chat completion's result line: each field the answer's columns read, typed,
# and every other field of OpenAI's objects (openai-python's ChatCompletion, read 2026-12)
# as any JSON, decoded and so checked, not read: what `read_openai_success` decodes in one
# pass. A line with a field not named here (another service's addition) is read the
# general way: a typed decode checks what it skips for JSON syntax only, not for bad UTF-8
# or numbers past a double's range, which the general reading refuses. Each type is as
# strict as the general reading's test or stricter (a line it refuses is read the general
# way): ``model`` a non-empty string, ``choices`` a non-empty list of choices with a
# message, ``usage`` OpenAI's counts.
def _object(name: str, read: list[tuple[str, Any] | tuple[str, Any, Any]],
            unread: tuple[str, ...] = ()) -> Any:
    """The Struct of one object of the line: the fields ``read``, and the ``unread`` ones
    as any JSON; no other field."""
    return msgspec.defstruct(name, [*read, *((field, Any, None) for field in unread)],
                             kw_only=True, forbid_unknown_fields=True)


def _list_of(item: Any) -> Any:
    """``list[item]`` of a Struct made by :func:`_object`."""
    return GenericAlias(list, (item,))


_Function = _object("_Function", [("arguments", Any, None)], ("name",))
_ToolCall = _object("_ToolCall", [("function", _Function)], ("id", "type"))
_Message = _object("_Message", [
    ("content", str | None, None),  # a list of parts (Mistral) is read the general way
    ("refusal", Any, None),
    ("tool_calls", _list_of(_ToolCall) | None, None),
    ("function_call", None, None),  # the legacy call, read the general way
    # vLLM's and other open servers' reasoning text is no column.
], ("role", "annotations", "audio", "reasoning_content", "reasoning"))
_Choice = _object("_Choice", [("message", _Message), ("finish_reason", Any, None)],
                  ("index", "logprobs", "stop_reason"))  # stop_reason: vLLM
_Usage = _object("_Usage", [
    ("prompt_tokens", Any),
    ("completion_tokens", Any, None),
    ("total_tokens", Any, None),
    ("prompt_tokens_details",
     _object("_PromptDetails", [("cached_tokens", Any, None)], ("audio_tokens",)) | None,
     None),
    ("completion_tokens_details", _object("_CompletionDetails", [
        ("reasoning_tokens", Any, None)], ("audio_tokens", "accepted_prediction_tokens",
                                           "rejected_prediction_tokens")) | None, None),
], ("queue_time", "prompt_time", "completion_time", "total_time"))  # Groq's timings
_Body = _object("_Body", [
    ("model", Annotated[str, msgspec.Meta(min_length=1)]),
    ("choices", Annotated[_list_of(_Choice), msgspec.Meta(min_length=1)]),
    ("usage", _Usage),
], ("id", "object", "created", "system_fingerprint", "service_tier",
    "x_groq", "prompt_logprobs", "kv_transfer_params"))  # Groq; vLLM twice
_SuccessLine = _object("_SuccessLine", [
    ("custom_id", str),
    # msgspec's int is JSON's integer: 200.0 and true are refused.
    ("response", _object("_Response", [("status_code", int), ("body", _Body)],
                         ("request_id",))),
    ("error", None, None),
], ("id",))
_decode_success = msgspec.json.Decoder(_SuccessLine).decode


def read_openai_success(raw: bytes) -> Outcome | None:
    """The outcome of an OpenAI-shaped result line that is a chat completion's success (HTTP
    2xx), with its answer's fields (:attr:`Outcome.answer`), in one typed decode; None for
    any other line. Equal to what ``openai_shape`` and
    :func:`batchio.results.answer_fields` give for the line, at about half their cost."""
    try:
        line = _decode_success(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    status_code = line.response.status_code
    if not 200 <= status_code < 300:
        return None
    body = line.response.body
    choice = body.choices[0]
    message = choice.message
    calls = message.tool_calls
    fields = choice_fields(message.content, message.refusal, choice.finish_reason,
                           calls[0].function.arguments if calls else None)
    fields["model"] = body.model
    usage = body.usage
    prompt_details, completion_details = (usage.prompt_tokens_details,
                                          usage.completion_tokens_details)
    fields.update(zip(USAGE_FIELDS, token_counts(
        usage.prompt_tokens, usage.completion_tokens,
        None if prompt_details is None else prompt_details.cached_tokens,
        None if completion_details is None else completion_details.reasoning_tokens,
        usage.total_tokens, None), strict=True))
    return _new(Outcome, (line.custom_id, "succeeded", None, None, None, False, status_code,
                          fields))


def _check_answer_body(body: Any) -> None:
    """A successful response's body must be an answer: an object, and a completion's
    ``choices`` a list holding at least one choice object (a 200 with ``[]``, ``"str"``,
    ``{"choices": []}`` or ``{"choices": [null]}`` answers nothing: the line is not a
    result, and its request failed with ``invalid_result_line``)."""
    if not isinstance(body, dict):
        raise ValueError("response.body of a successful response is not an object")
    if "choices" in body:
        choices = body["choices"]
        if not isinstance(choices, list) or not choices \
                or not all(isinstance(choice, dict) for choice in choices):
            raise ValueError("response.body.choices holds no choice: a completion without "
                             "an answer")


def anthropic_shape(
    expired_codes: frozenset[str],
    cancelled_codes: frozenset[str],
    retryable_codes: frozenset[str],
) -> Callable[[Mapping[str, Any]], Outcome]:
    """The reader of Anthropic's results: ``result.type`` of succeeded, errored, canceled or
    expired; an errored request's code is its inner error type."""

    def classify(line: Mapping[str, Any]) -> Outcome:
        custom_id = line["custom_id"]
        if not isinstance(custom_id, str):
            raise TypeError("custom_id is not a string")
        result = line["result"]
        kind = result["type"]
        if kind == "succeeded":
            return _outcome(custom_id, "succeeded", result.get("message"), None, None, False)
        if kind in expired_codes:
            return _outcome(custom_id, "expired", None, {"type": kind}, kind, True)
        if kind in cancelled_codes:
            return _outcome(custom_id, "cancelled", None, {"type": kind}, kind, True)
        if kind == "errored":
            wrapper = result.get("error")
            inner = wrapper.get("error", wrapper) if isinstance(wrapper, dict) else wrapper
            code = inner.get("type") if isinstance(inner, dict) else None
            code = code if isinstance(code, str) else "errored"
            return _outcome(custom_id, "failed", None, inner, code, code in retryable_codes)
        raise ValueError(f"unknown result.type {kind!r}")

    return classify


def gemini_shape(
    expired_codes: frozenset[str],
    cancelled_codes: frozenset[str],
    retryable_codes: frozenset[str],
) -> Callable[[Mapping[str, Any]], Outcome]:
    """The reader of Gemini's results: the line's ``key`` with a ``response``, or an
    ``error`` (or ``status``) object whose ``status`` or ``code`` is the failure's code."""

    def classify(line: Mapping[str, Any]) -> Outcome:
        key = line["key"]
        if not isinstance(key, str):
            raise TypeError("key is not a string")
        error = line.get("error") or line.get("status")
        if error:
            code: Any = error.get("status") or error.get("code") \
                if isinstance(error, dict) else None
            code = str(code) if code is not None else "error"
            if code in expired_codes:
                return _outcome(key, "expired", line.get("response"), error, code, True)
            if code in cancelled_codes:
                return _outcome(key, "cancelled", line.get("response"), error, code, True)
            return _outcome(key, "failed", line.get("response"), error, code,
                            code in retryable_codes)
        if "response" not in line:
            raise ValueError("result line has neither a response nor an error")
        return _outcome(key, "succeeded", line["response"], None, None, False)

    return classify


def bedrock_shape(retryable_codes: frozenset[str]
                  ) -> Callable[[Mapping[str, Any]], Outcome]:
    """The reader of Bedrock's ``.jsonl.out`` lines: the line's ``recordId`` with a
    ``modelOutput`` (the model's own response body), or an ``error`` object whose
    ``errorCode`` (a number in AWS's example, a name in some) is the failure's code. Bedrock
    reports no expired or cancelled record: a stopped or expired job's unrun records have
    no line (they are missing)."""

    def classify(line: Mapping[str, Any]) -> Outcome:
        record_id = line["recordId"]
        if not isinstance(record_id, str):
            raise TypeError("recordId is not a string")
        error = line.get("error")
        if error is not None:
            raw = error.get("errorCode") if isinstance(error, dict) else None
            code = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) \
                and str(raw) else "error"
            status_code = int(code) if code.isdigit() and len(code) < 4 else None
            retryable = code in retryable_codes or (
                status_code is not None and _retryable_http(status_code))
            return _outcome(record_id, "failed", None, error, code, retryable)
        output = line["modelOutput"]
        if not isinstance(output, dict):
            raise TypeError("modelOutput is not an object")
        return _outcome(record_id, "succeeded", output, None, None, False)

    return classify


def vertex_status_error(status: str) -> dict[str, Any]:
    """The error object of a failed Vertex prediction line, from its ``status`` text:
    ``"Bad Request: {"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT"}}"``
    gives that inner error; text without JSON, ``{"message": status}``."""
    start = status.find("{")
    if start >= 0:
        try:
            inner = orjson.loads(status[start:])
        except orjson.JSONDecodeError:
            inner = None
        if isinstance(inner, dict):
            error = inner.get("error", inner)
            if isinstance(error, dict):
                return error
    return {"message": status}


def vertex_shape(retryable_codes: frozenset[str]
                 ) -> Callable[[Mapping[str, Any]], Outcome]:
    """The reader of Vertex AI's ``predictions.jsonl`` lines: ``status`` empty (or absent)
    with a ``response``, or a non-empty ``status`` text saying why the request failed. The
    request is named by the line's ``custom_id`` where it has one (Claude's lines; a Gemini
    line's extra fields come back too), else by its echoed ``request`` (the join's own
    matching): the outcome's id is then empty."""

    def classify(line: Mapping[str, Any]) -> Outcome:
        custom_id = line.get("custom_id", "")
        if not isinstance(custom_id, str):
            raise TypeError("custom_id is not a string")
        status = line.get("status")
        if isinstance(status, str) and not status.strip():
            status = None  # white space says nothing went wrong
        if status:
            if not isinstance(status, str):
                raise TypeError("status is not a string")
            error = vertex_status_error(status)
            # google.rpc's status or code; for Claude's lines, Anthropic's error type
            # (``overloaded_error``), which the retryable codes name.
            raw = error.get("status") or error.get("code") or error.get("type")
            code = str(raw) if isinstance(raw, (str, int)) and raw != "" else "error"
            number = error.get("code")
            number = int(number) if isinstance(number, str) and number.isdigit() else number
            retryable = code in retryable_codes or (
                type(number) is int and _retryable_http(number))
            return _outcome(custom_id, "failed", line.get("response"), error, code, retryable)
        response = line["response"]
        if not isinstance(response, dict):
            raise TypeError("response is not an object")
        return _outcome(custom_id, "succeeded", response, None, None, False)

    return classify
