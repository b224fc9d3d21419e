"""The JSON Schema files batchio ships, and compiled validators for them.

Owns finding the schema folder (inside an installed wheel, or the source tree's top-level
``schemas/``), loading every file into one local registry, and compiling a
:class:`CompiledSchema`: jsonschema-rs decides valid or invalid at compiled speed, the
plain ``jsonschema`` package explains a value already found invalid. References resolve
only within the registry: a ``$ref`` to anything else is an error, never a download.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsonschema
import jsonschema_rs
import orjson
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from .errors import BatchioError

#: The ``$id`` prefix of every schema batchio ships; ``schema_id("openai/chat-completions")``.
BASE_URI = "https://batchio.dev/schemas/"


def schema_dir() -> Path:
    """The folder holding the schema files (installed package first, then the source tree)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_schemas", here.parent / "schemas"):
        if (candidate / "batch.schema.json").is_file():
            return candidate
    raise BatchioError("batchio's schema files are missing from the installation",
                       code="unreadable_file")


def schema_id(name: str) -> str:
    """The ``$id`` of a shipped schema from its short name, e.g. ``openai/embeddings``."""
    return f"{BASE_URI}{name}.schema.json"


@functools.lru_cache(maxsize=1)
def load_schemas() -> Mapping[str, Mapping[str, Any]]:
    """Every shipped schema, keyed by its ``$id``."""
    schemas: dict[str, Mapping[str, Any]] = {}
    for path in sorted(schema_dir().rglob("*.schema.json")):
        schema = orjson.loads(path.read_bytes())
        schemas[schema["$id"]] = schema
    return schemas


def _refuse_remote(uri: str) -> Any:
    raise BatchioError(
        f"schema reference {uri!r} is not a local schema; batchio never fetches schemas",
        code="unreadable_file")


def _refuse_resource(uri: str) -> referencing.Resource[Any]:
    return _refuse_remote(uri)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def _registries() -> tuple[referencing.Registry[Any], Any]:
    schemas = load_schemas()
    python_registry: referencing.Registry[Any] = referencing.Registry(
        retrieve=_refuse_resource,  # type: ignore[call-arg]
    ).with_resources(
        (uri, DRAFT202012.create_resource(schema)) for uri, schema in schemas.items()
    )
    rust_registry = jsonschema_rs.Registry(cast(Any, list(schemas.items())))
    return python_registry, rust_registry


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """Why a value breaks a schema: the JSON path inside the value, the keyword that failed,
    the offending value, what the keyword expected, and jsonschema's own message."""

    path: tuple[str | int, ...]
    message: str
    keyword: str
    instance: Any = None
    expected: Any = None


class CompiledSchema:
    """A schema compiled twice: a fast ``is_valid`` and an ``explain`` for invalid values.

    ``check`` first checks the schema against the Draft 2020-12 metaschema.
    """

    def __init__(self, schema: Mapping[str, Any], *, uri: str | None = None,
                 check: bool = True) -> None:
        python_registry, rust_registry = _registries()
        schema = dict(schema)
        self.uri = uri or str(schema.get("$id", "<inline schema>"))
        try:
            if check:
                jsonschema.Draft202012Validator.check_schema(schema)
            self._fast = jsonschema_rs.validator_for(
                schema, registry=rust_registry, retriever=_refuse_remote)
        except jsonschema.SchemaError as exc:
            raise BatchioError(f"invalid schema {self.uri}: {exc.message}",
                               code="unreadable_file") from exc
        except (ValueError, jsonschema_rs.ReferencingError) as exc:
            raise BatchioError(f"schema {self.uri} cannot be compiled: {exc}",
                               code="unreadable_file") from exc
        self._explainer = jsonschema.Draft202012Validator(schema, registry=python_registry)
        self.is_valid = self._fast.is_valid

    def first_error(self, value: Any) -> tuple[tuple[str | int, ...], str] | None:
        """The JSON path and message of the first violation the compiled validator finds
        (linear-time regular expressions: safe on any schema), or None."""
        for error in self._fast.iter_errors(value):
            return tuple(error.instance_path), str(error.message)
        return None

    def explain(self, value: Any) -> SchemaViolation | None:
        """The most useful violation of an invalid value, or None.

        ``best_match`` picks it; a failure of an ``anyOf`` or ``oneOf`` is explained by its
        best alternative, at that alternative's own path.
        """
        try:
            error = jsonschema.exceptions.best_match(self._explainer.iter_errors(value))
            while error is not None and error.context and error.validator in ("anyOf", "oneOf"):
                # The alternatives whose type fits the value say more than those that want
                # another type: an over-long list is explained by the list alternative.
                fitting = [sub for sub in error.context
                           if not (sub.validator == "type"
                                   and len(sub.absolute_path) == len(error.absolute_path))]
                error = jsonschema.exceptions.best_match(fitting or error.context)
        except referencing.exceptions.Unresolvable as exc:
            return SchemaViolation((), f"unresolvable reference {exc}", "$ref")
        if error is None:
            return None
        return SchemaViolation(tuple(error.absolute_path), error.message, str(error.validator),
                               error.instance, error.validator_value)


@functools.cache
def compiled(name_or_uri: str) -> CompiledSchema:
    """The compiled shipped schema for a short name (``openai/embeddings``) or an ``$id``."""
    uri = name_or_uri if name_or_uri.startswith(BASE_URI) else schema_id(name_or_uri)
    schemas = load_schemas()
    if uri not in schemas:
        raise BatchioError(f"no shipped schema {name_or_uri!r}", code="unreadable_file")
    # Shipped schemas are checked against the metaschema by the test suite, not at each
    # start: that check costs a fifth of a second.
    return CompiledSchema(schemas[uri], uri=uri, check=False)


def load_user_schema(path: str | Path) -> CompiledSchema:
    """Compile a user's own JSON Schema file (applied to every body by ``--schema``)."""
    try:
        schema = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BatchioError(f"cannot read schema {path}: {exc}", code="unreadable_file",
                           path=str(path)) from None
    if not isinstance(schema, dict):
        raise BatchioError(f"schema {path} is not a JSON object", code="unreadable_file",
                           path=str(path))
    return CompiledSchema(schema, uri=str(path))


def format_param(prefix: str, path: tuple[str | int, ...]) -> str:
    """A JSON path as the server writes it: ``body.messages[2].role``."""
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
