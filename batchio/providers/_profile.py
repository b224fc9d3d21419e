"""The shape of a provider profile: line format, id rules, limits, endpoints, result shape.

A profile is data. Code elsewhere asks a profile questions (which field holds the id, what
is the per-file request limit, what status does this result line mean) instead of branching
on provider names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

Status = Literal["succeeded", "failed", "expired", "cancelled", "missing"]
#: How a profile treats something a service may or may not accept: an error where the
#: service rejects it, a warning where that is not known, nothing where it is accepted.
Policy = Literal["error", "warning", "allowed"]
STATUSES: tuple[Status, ...] = ("succeeded", "failed", "expired", "cancelled", "missing")


# A NamedTuple, made once a result line (see batchio.jsonl.Line for the measured reason).
class Outcome(NamedTuple):
    """What one result line says about its request."""

    custom_id: str
    status: Status
    response: Any
    error: Any
    error_code: str | None
    retryable: bool
    #: Set where the line was read straight into the answer's columns without keeping its
    #: response (rows made for a table file: see ``read_success`` of :class:`Profile`):
    #: the response's HTTP status, and the answer's fields as
    #: :func:`batchio.results.answer_fields` reads them; ``response`` is then None.
    http_status: int | None = None
    answer: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits; None where the provider sets none (or none is known)."""

    max_requests: int | None
    max_file_bytes: int | None
    max_embedding_inputs: int | None = None
    #: The fewest requests a job takes (Bedrock's minimum records per job): a file with
    #: fewer is a warning, as a job may hold several files.
    min_requests: int | None = None
    #: Figures the provider has not documented firmly: shown as uncertain in the docs.
    uncertain: tuple[str, ...] = ()
    #: Limits that are default quotas an account may have raised: past one is a warning
    #: (``max_requests``, ``min_requests``), never an error.
    adjustable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdRule:
    """What a custom_id (or key) may be: a length cap and a full-match character pattern."""

    max_length: int | None = None
    pattern: str | None = None
    description: str = "any non-empty string"
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern) if self.pattern else None)

    @property
    def plain(self) -> bool:
        """True when any non-empty string will do (no length or character rule)."""
        return self.max_length is None and self._regex is None

    def problem(self, custom_id: object, field: str = "custom_id") -> tuple[str, str] | None:
        """(code, message) when the id breaks the rule, else None. The one definition of a
        good id: the fast lanes of the validator and the writer call it too."""
        if type(custom_id) is not str or not custom_id:
            if custom_id is None:
                return "missing_custom_id", f"the line has no {field}"
            return "invalid_custom_id", f"{field} must be a non-empty string"
        if self.max_length is not None and len(custom_id) > self.max_length:
            return ("custom_id_too_long",
                    f"{field} is {len(custom_id)} characters; at most {self.max_length}")
        regex: re.Pattern[str] | None = self._regex
        if regex is not None and regex.fullmatch(custom_id) is None:
            return "custom_id_charset", f"{field} must be {self.description}"
        return None

    def decoded_type(self) -> Any:
        """The same rule as :meth:`problem`, as the type an id decodes into (the
        validator's typed lane): a non-empty string within the length, matching the whole
        pattern."""
        return Annotated[str, msgspec.Meta(
            min_length=1, max_length=self.max_length,
            pattern=None if self.pattern is None else rf"\A(?:{self.pattern})\Z")]


# Not slotted: its derived views (envelope_fields...) are cached_property values, which
# live in the instance __dict__.
@dataclass(frozen=True)
class Profile:
    """Everything batchio knows about one provider's batch files.

    Each provider's module cites the source of every endpoint, rule and limit it sets.
    """

    name: str
    title: str
    docs_url: str
    #: The top-level fields of a request line: the id and the request body.
    id_field: str
    body_field: str
    #: True when each line carries ``method`` and ``url`` (the OpenAI envelope).
    carries_url: bool
    #: Endpoint paths as written in lines (or set on the job) -> shipped body schema name.
    endpoints: Mapping[str, str]
    #: The endpoint assumed when lines carry no url and the caller names none.
    default_endpoint: str
    ids: IdRule
    limits: Limits
    #: Url endings served whatever comes before them (vLLM serves any url ending in
    #: ``/score``) -> body schema name.
    endpoint_suffixes: Mapping[str, str] = field(default_factory=dict)
    #: Endpoints whose bodies must name a model (on providers that set it per line).
    model_required: frozenset[str] = frozenset()
    #: Lines of one file with different urls, or different models: an error where the
    #: service rejects such a file (``url_mismatch``, ``model_mismatch``), a warning where
    #: that is not known, nothing where the service takes them.
    mixed_urls: Policy = "error"
    mixed_models: Policy = "error"
    #: A blank line in a request file (``blank_line``).
    blank_lines: Policy = "warning"
    #: A custom_id used twice in one file (``duplicate_custom_id``): an error where the
    #: service rejects the file, a warning where it runs both requests (their results then
    #: cannot be told apart by id).
    duplicate_ids: Policy = "error"
    #: False where a line without an id is accepted (it is then a warning: its result
    #: cannot be matched back by id).
    id_required: bool = True
    #: Where ids are optional: whether a line without one is a warning (Bedrock, whose
    #: docs use one) or the provider's own shape (Vertex AI's Gemini lines carry none).
    missing_id_warns: bool = True
    #: Body fields of a sibling endpoint that the service accepts in the file but rejects
    #: for every request at run time (``unsupported_parameter``): endpoint -> field -> what
    #: to use instead.
    misplaced: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: True where a line may be the request body itself, with no id and no envelope
    #: (Gemini's REST example writes bare GenerateContentRequest lines).
    bare_body: bool = False
    #: For providers whose lines carry no url: the endpoint a body is for, read off its
    #: shape (Gemini's embedding lines hold ``content``, generation lines ``contents``).
    endpoint_of_body: Callable[[Mapping[str, Any]], str | None] | None = None
    #: The top-level body fields whose presence alone decides ``endpoint_of_body`` (None
    #: where it looks deeper): bodies alike in which of them they hold are for one
    #: endpoint, which lets the validator's typed lane fix them (a property test holds
    #: each provider's function to it).
    endpoint_keys: frozenset[str] | None = None
    #: True where ``default_endpoint`` is only what a body's shape could not tell (Bedrock:
    #: a body whose model family its shape does not name): checked loosely, with a warning.
    default_is_guess: bool = False
    #: For providers that set the model on the job: the endpoint (Bedrock: the body family)
    #: a model id names, or None for a model no schema here describes.
    endpoint_of_model: Callable[[str], str | None] | None = None
    #: The shape of its result lines: "openai", "anthropic", "gemini", "bedrock" or
    #: "vertex".
    result_shape: str = "openai"
    #: Reads one result line; raises KeyError/TypeError/ValueError when it is not one.
    classify_result: Callable[[Mapping[str, Any]], Outcome] = field(
        default=lambda line: _unset(line))
    #: Reads the result lines of the commonest kind (a success) in one typed decode,
    #: straight into the outcome and its answer's fields (``http_status``, ``answer``;
    #: ``response`` None); None for any other line, which ``classify_result`` reads. What
    #: it gives for a line is what ``classify_result`` and
    #: :func:`batchio.results.answer_fields` give (a property test holds it to them).
    #: Rows made for a table file use it: they need the answer's fields, not the response.
    read_success: Callable[[bytes], Outcome | None] | None = None
    #: The field of a result line naming its request.
    result_id_field: str = "custom_id"
    #: The field of a result line that repeats its request's body, where results carry it
    #: (Bedrock ``modelInput``, Vertex ``request``): how a request with no id is matched to
    #: its result (:mod:`batchio.reconcile`, by the body's normal form).
    echo_field: str | None = None
    #: Whether an answer names the model its request asked for, or a dated snapshot of it
    #: (``gpt-4o-mini`` answered by ``gpt-4o-mini-2024-07-18``): a join then notes answers
    #: from other models, another job's results under the same ids (see
    #: :data:`batchio.reconcile.MODEL_SAMPLE`). False where a request names a deployment
    #: (Azure) or an alias the answer does not repeat.
    answers_name_their_model: bool = False
    #: The result files a job produces, for docs: ("output", "errors") or ("results",).
    result_files: tuple[str, ...] = ("output", "errors")
    #: How the provider names the one result file of an input file ``STEM.jsonl``, where
    #: it names it after the input (Bedrock: ``STEM.jsonl.out``); None: batchio's names.
    result_file_name: str | None = None
    #: Whether the provider's job object carries request counts (Bedrock's job and
    #: Together's do not: a cross-check has nothing to compare there, which is no fault).
    batch_counts: bool = True
    #: The error codes that mean a request never ran because the batch expired/was cancelled.
    expired_codes: frozenset[str] = frozenset()
    cancelled_codes: frozenset[str] = frozenset()
    #: Failure codes worth retrying as they are (rate limits, timeouts, server errors).
    retryable_codes: frozenset[str] = frozenset()
    #: Characters a token for estimates (batchio.bodies.TokenCounter): four, the figure
    #: OpenAI and Google give for English; the other providers publish none (uncertain),
    #: so estimates there use the same figure until ``estimate --calibrate`` fits one.
    chars_per_token: float = 4.0
    notes: str = ""

    @property
    def one_result_file(self) -> bool:
        """True when every result, failures included, comes back in one file."""
        return "errors" not in self.result_files

    @property
    def one_model_per_file(self) -> bool:
        """True when a file with two models is an error."""
        return self.mixed_models == "error"

    @functools.cached_property
    def envelope_fields(self) -> frozenset[str]:
        fields = {self.id_field, self.body_field}
        if self.carries_url:
            fields |= {"method", "url"}
        return frozenset(fields)

    def body_of(self, line: Mapping[str, Any]) -> tuple[Any, bool]:
        """A request line's body (None when it has none), and whether the line is a bare
        body: a provider that takes lines of the body alone, with no id and no field of
        the envelope."""
        body = line.get(self.body_field)
        if body is None and self.bare_body and not (self.envelope_fields & line.keys()):
            return line, True
        return body, False

    def endpoint_for_body(self, body: Mapping[str, Any]) -> str:
        """The endpoint a body is for, on a provider whose lines carry no url: the one the
        body says (Gemini: embedContent or generateContent), else the provider's."""
        said = self.endpoint_of_body(body) if self.endpoint_of_body is not None else None
        return said or self.default_endpoint

    def endpoint_of_line(self, line: Mapping[str, Any]) -> str | None:
        """The endpoint a request line is for: its url (None when it has no string url),
        or :meth:`endpoint_for_body` of its body where lines carry none."""
        if self.carries_url:
            url = line.get("url")
            return url if type(url) is str else None
        body, _ = self.body_of(line)
        return self.endpoint_for_body(body if isinstance(body, dict) else {})

    def endpoint_named(self, endpoint: str | None, model: str | None) -> str | None:
        """The endpoint a job is for, from ``--endpoint`` or, where the provider reads it
        off the job's model (Bedrock), ``--model``; None when neither says."""
        if endpoint is not None or model is None or self.endpoint_of_model is None:
            return endpoint
        return self.endpoint_of_model(model)

    def schema_for(self, endpoint: str) -> str | None:
        """The shipped body schema name for an endpoint, or None when it is not accepted."""
        name = self.endpoints.get(endpoint)
        if name is None:
            for suffix, suffix_schema in self.endpoint_suffixes.items():
                if endpoint.endswith(suffix):
                    return suffix_schema
        return name

    def endpoint_list(self) -> str:
        """The accepted endpoints, for messages and docs."""
        listed = list(self.endpoints) + [f"*{suffix}" for suffix in self.endpoint_suffixes]
        return ", ".join(listed)


def _unset(line: Mapping[str, Any]) -> Outcome:
    raise ValueError("this profile reads no result files")
