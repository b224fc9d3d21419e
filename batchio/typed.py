"""Typed decoding generated from the shipped schemas: the validator's fastest lane.

Owns turning a shipped JSON Schema into msgspec types (:func:`body_type`) and a request
line's envelope into a decoder (:func:`line_decoder`). A value decodes into these types
only when the schema accepts it: the types are *sound* (decoded means valid), not
complete. A value they refuse is not judged here; the validator hands its line to the
explaining path (the compiled schema and jsonschema's messages), so a verdict never
depends on this module. The schema stays the one source of truth: no type here is
written by hand.

What a schema says becomes, in msgspec's terms:

- ``type`` -> ``str``, ``int``, ``float``, ``bool``, ``None``, ``list`` and Structs or
  dicts, a union for a list of types (``"integer"`` beside ``"number"`` is ``float``);
- ``minLength``/``maxLength``, ``minimum``/``maximum`` and their exclusive forms,
  ``minItems``/``maxItems``, ``maxProperties`` of a map, and ``multipleOf`` of an integer
  -> :class:`msgspec.Meta` bounds (msgspec counts a string's code points, as JSON Schema
  does);
- ``pattern`` -> a Meta pattern where the expression means the same in Python as in
  ECMA-262: character classes, counts, groups and alternatives, no escapes, no ``.``; a
  trailing ``$`` becomes ``\\Z``, which, unlike Python's ``$``, does not match before a
  final newline;
- ``enum``/``const`` of strings, integers and null -> ``Literal`` (with ``None``);
- ``properties``/``required`` -> a Struct whose absent optional fields are
  :data:`msgspec.UNSET`, which refuses every field the schema does not name, even where
  the schema allows other fields: msgspec skips a field it decodes into no type without
  reading it (neither its UTF-8 nor the range of its numbers), so a line holding one is
  left to the lanes behind, which read every byte. ``additionalProperties`` with a schema
  and no properties -> ``dict``; a part the schema says nothing of -> ``Any``, decoded
  whole (and so read as the untyped decoder reads it);
- ``$ref`` to a ``$defs`` entry or another shipped schema -> the type generated for it;
- an ``if``/``then``/``else`` chain testing one required property against constants
  (``role``, ``type``) -> a tagged union with one Struct per value the property may take,
  each holding the ``then`` that applies to it. A value the chain names nowhere, where the
  property is any string, has no Struct: it is not decoded here;
- ``anyOf`` -> a union of the alternatives msgspec can tell apart by JSON type (of two
  arrays, only the first: a list of token ids is not decoded here); ``anyOf`` of
  ``required`` lists -> the first list required (an assistant message with tool calls and
  no content is not decoded here); ``if``/``then``/``else`` of ``required`` lists -> a
  check of which fields are present (``__post_init__``);
- ``allOf`` of schemas with no keyword in common, and ``not: {"type": "null"}`` -> merged.

What it cannot express, and what it does instead: ``oneOf`` (exclusivity),
``uniqueItems``, ``minProperties``/``maxProperties`` beside named properties,
``propertyNames``, ``patternProperties``, ``prefixItems``, ``contains``, ``format``,
``dependent*``, ``not`` of anything but null, enums of booleans or non-integer numbers,
``multipleOf`` of a float, and patterns outside the subset above. An optional field with
such a part is refused (a line holding it is left to the lanes behind); a required one is
decoded as raw JSON (:class:`msgspec.Raw`), read back by the untyped decoder and checked
by the compiled schema engine, on that part only. Integers written with a fraction
(``1.0``) and numbers beyond a double are not decoded here either.
"""

from __future__ import annotations

import functools
import keyword
import operator
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import jsonschema_rs
import msgspec
from msgspec import UNSET, Meta, UnsetType

from .schemas import _refuse_remote, _registries, load_schemas

#: Keywords that say nothing about a value.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default",
                          "deprecated", "readOnly", "writeOnly", "$schema", "$id",
                          "$defs", "definitions", "$anchor"})
_NUMBER_BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt",
                  "exclusiveMaximum": "lt"}
#: A pattern made only of these means the same to Python's ``re`` and to ECMA-262 (and no
#: ``(?``, which opens a group of Python's own).
_SAFE_PATTERN = re.compile(r"\^?(?:[A-Za-z0-9 _,:@/=-]|\[[A-Za-z0-9 _:@/,-]+\]"
                           r"|\{\d+(?:,\d*)?\}|[+*?()|])*\$?")
#: What decoding raises for a value the types refuse.
#: (ValueError: an integer of more than 4,300 digits in a part decoded whole.)
DECODE_FAILURES = (ValueError, RecursionError)


class _Inexpressible(Exception):
    """A part of a schema these types cannot state exactly."""


#: A part's JSON kind in a union: msgspec tells union members apart by it.
_KINDS = ("string", "integer", "number", "boolean", "null", "array", "object")


class _Part:
    """The type generated for one schema, with the JSON kinds it decodes."""

    __slots__ = ("kinds", "type")

    def __init__(self, kinds: frozenset[str], type_: Any) -> None:
        self.kinds = kinds
        self.type = type_


def _union(parts: Sequence[_Part]) -> _Part:
    """One type for several parts; a part whose kind an earlier one already decodes is left
    out (sound: the union then decodes fewer values, never more)."""
    kept: list[_Part] = []
    kinds: set[str] = set()
    for part in parts:
        if part.kinds & kinds:
            continue
        kept.append(part)
        kinds |= part.kinds
    if not kept:
        raise _Inexpressible("no alternative")
    types = [part.type for part in kept]
    return _Part(frozenset(kinds), types[0] if len(types) == 1 else _one_of(types))


def _one_of(types: Sequence[Any]) -> Any:
    """The union of several types."""
    return functools.reduce(operator.or_, types)


def _meta(**bounds: Any) -> dict[str, Any]:
    return {name: value for name, value in bounds.items() if value is not None}


def _annotated(type_: Any, bounds: dict[str, Any]) -> Any:
    return Annotated[type_, Meta(**bounds)] if bounds else type_


def python_pattern(pattern: str) -> str:
    """The Python expression meaning what an ECMA-262 ``pattern`` means, or
    :class:`_Inexpressible` when it is outside the subset both read alike."""
    if _SAFE_PATTERN.fullmatch(pattern) is None or "(?" in pattern:
        raise _Inexpressible(f"pattern {pattern}")
    if pattern.endswith("$"):
        pattern = pattern[:-1] + r"\Z"
    return pattern


def _attribute(name: str, taken: set[str]) -> str:
    """A Python attribute name for a JSON property name."""
    attribute = name if name.isidentifier() and not keyword.iskeyword(name) \
        and not name.startswith("_") else f"field_{len(taken)}"
    while attribute in taken:
        attribute += "_"
    taken.add(attribute)
    return attribute


class _Generator:
    """Types for the schemas of one registry (the shipped schemas), each made once."""

    def __init__(self) -> None:
        self.schemas = load_schemas()
        self._made: dict[tuple[str, str], _Part] = {}
        self._names = 0

    # --- references ---------------------------------------------------------------------

    def resolve(self, uri: str, pointer: str, ref: str) -> tuple[str, str, Mapping[str, Any]]:
        """(document, pointer, schema) a ``$ref`` names."""
        document, _, fragment = ref.partition("#")
        if document:
            uri = urllib.parse.urljoin(uri, document)
        if uri not in self.schemas:
            raise _Inexpressible(f"reference {ref}")
        node: Any = self.schemas[uri]
        for step in (fragment.lstrip("/").split("/") if fragment.strip("/") else []):
            step = step.replace("~1", "/").replace("~0", "~")
            node = node[int(step)] if isinstance(node, list) else node[step]
        return uri, fragment, node

    def _deref(self, uri: str, pointer: str, schema: Mapping[str, Any]
               ) -> tuple[str, str, Mapping[str, Any]]:
        while set(schema) - _ANNOTATIONS == {"$ref"}:
            uri, pointer, schema = self.resolve(uri, pointer, schema["$ref"])
        return uri, pointer, schema

    # --- parts --------------------------------------------------------------------------

    def part(self, uri: str, pointer: str, schema: Mapping[str, Any]) -> _Part:
        """The type of ``schema`` (at ``uri#pointer``), made once per place."""
        key = (uri, pointer)
        if pointer and key in self._made:
            return self._made[key]
        made = self._part(uri, pointer, schema)
        if pointer:
            self._made[key] = made
        return made

    def _part(self, uri: str, pointer: str, schema: Mapping[str, Any]) -> _Part:
        if not isinstance(schema, Mapping):
            raise _Inexpressible("a boolean schema")
        uri, pointer, schema = self._deref(uri, pointer, schema)
        schema = dict(schema)
        if "$ref" in schema:
            ref_uri, _, target = self.resolve(uri, pointer, schema.pop("$ref"))
            if ref_uri != uri:
                raise _Inexpressible("a reference to another document beside keywords")
            schema = _merged(dict(target), schema)
        if "allOf" in schema:
            for item in schema.pop("allOf"):
                item_uri, _, item = self._deref(uri, pointer, item)
                if item_uri != uri:
                    raise _Inexpressible("allOf across documents")
                schema = _merged(schema, dict(item))
        keywords = set(schema) - _ANNOTATIONS
        if not keywords:
            return _Part(frozenset(_KINDS), Any)
        if "enum" in schema or "const" in schema:
            return self._constants(schema)
        if "anyOf" in schema and not _only_required(schema["anyOf"]):
            alternatives = schema.pop("anyOf")
            parts = []
            for number, alternative in enumerate(alternatives):
                try:
                    parts.append(self.part(uri, f"{pointer}/anyOf/{number}",
                                           _merged(dict(schema), dict(alternative))
                                           if set(schema) - _ANNOTATIONS else alternative))
                except _Inexpressible:
                    continue
            return _union(parts)
        types = schema.get("type", list(_KINDS) if not keywords & _OBJECT_WORDS
                           else ["object"])
        types = [types] if isinstance(types, str) else list(types)
        excluded = _excluded_types(schema)
        types = [kind for kind in types if kind not in excluded]
        parts = []
        if "number" in types and "integer" in types:
            types.remove("integer")
        for kind in types:
            parts.append(self._kind(uri, pointer, schema, kind))
        return _union(parts)

    def _constants(self, schema: Mapping[str, Any]) -> _Part:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        if set(schema) - _ANNOTATIONS - {"enum", "const", "type"}:
            raise _Inexpressible("enum with other keywords")
        allowed = schema.get("type")
        strings = [v for v in values if type(v) is str]
        integers = [v for v in values if type(v) is int]
        nulls = [v for v in values if v is None]
        if len(strings) + len(integers) + len(nulls) != len(values) or (
                allowed is not None and not {"string", "integer", "null"} >= (
                    {allowed} if isinstance(allowed, str) else set(allowed))):
            raise _Inexpressible("enum of other values")
        if allowed is not None:
            allowed = {allowed} if isinstance(allowed, str) else set(allowed)
            strings = strings if "string" in allowed else []
            integers = integers if "integer" in allowed else []
            nulls = nulls if "null" in allowed else []
        parts = []
        if strings:
            parts.append(_Part(frozenset({"string"}), Literal[tuple(strings)]))
        if integers:
            parts.append(_Part(frozenset({"integer"}), Literal[tuple(integers)]))
        if nulls:
            parts.append(_Part(frozenset({"null"}), None))
        return _union(parts)

    def _kind(self, uri: str, pointer: str, schema: Mapping[str, Any], kind: str) -> _Part:
        words = set(schema) - _ANNOTATIONS - {"type", "not"}
        if kind != "object" and ("if" in words or (
                "anyOf" in words and not _only_required(schema["anyOf"]))):
            # A condition may test this kind too: not said here.
            raise _Inexpressible("a condition on a value that is not an object")
        if kind in ("null", "boolean"):
            if words - _OTHER_KIND_WORDS:
                # A keyword that would say something of this value (oneOf, say): not said.
                raise _Inexpressible(f"{kind} keywords")
            return _Part(frozenset({kind}), None if kind == "null" else bool)
        if kind == "string":
            if words & _STRING_WORDS - {"minLength", "maxLength", "pattern"} or \
                    words - _STRING_WORDS - _OTHER_KIND_WORDS:
                raise _Inexpressible("string keywords")
            pattern = schema.get("pattern")
            return _Part(frozenset({"string"}), _annotated(str, _meta(
                min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                pattern=None if pattern is None else python_pattern(pattern))))
        if kind in ("integer", "number"):
            if words - _NUMBER_WORDS - _OTHER_KIND_WORDS:
                raise _Inexpressible("number keywords")
            bounds = {_NUMBER_BOUNDS[word]: schema[word] for word in _NUMBER_BOUNDS
                      if word in schema}
            if any(type(value) not in (int, float) for value in bounds.values()):
                raise _Inexpressible("bound")
            if "multipleOf" in schema:
                if kind == "number" or type(schema["multipleOf"]) is not int:
                    raise _Inexpressible("multipleOf of a number")
                bounds["multiple_of"] = schema["multipleOf"]
            if kind == "number":
                # A double's range: a number beyond it is not decoded here.
                bounds.setdefault("ge", -1.7976931348623157e308)
                bounds.setdefault("le", 1.7976931348623157e308)
                return _Part(frozenset({"integer", "number"}), _annotated(float, bounds))
            return _Part(frozenset({"integer"}), _annotated(int, bounds))
        if kind == "array":
            if words - _ARRAY_WORDS - _OTHER_KIND_WORDS or words & _ARRAY_WORDS - {
                    "items", "minItems", "maxItems"}:
                raise _Inexpressible("array keywords")
            items: Any = Any
            if "items" in schema:
                items = self.part(uri, f"{pointer}/items", schema["items"]).type
            return _Part(frozenset({"array"}), _annotated(list[items], _meta(
                min_length=schema.get("minItems"), max_length=schema.get("maxItems"))))
        return self._object(uri, pointer, schema)

    # --- objects ------------------------------------------------------------------------

    def _object(self, uri: str, pointer: str, schema: Mapping[str, Any]) -> _Part:
        words = set(schema) - _ANNOTATIONS - {"type", "not"} - _OTHER_KIND_WORDS_OF_OBJECT
        if words - _OBJECT_WORDS or words & _UNSAID_OBJECT_WORDS:
            raise _Inexpressible(f"object keywords {sorted(words)}")
        extra = schema.get("additionalProperties", True)
        if "properties" not in schema and "required" not in schema and "if" not in schema \
                and "anyOf" not in schema:
            if "minProperties" in schema:
                raise _Inexpressible("minProperties")
            values: Any = Any
            if extra is False:
                raise _Inexpressible("an object that must be empty")
            if isinstance(extra, Mapping):
                values = self.part(uri, f"{pointer}/additionalProperties", extra).type
            return _Part(frozenset({"object"}), _annotated(dict[str, values], _meta(
                max_length=schema.get("maxProperties"))))
        if "minProperties" in schema or "maxProperties" in schema or (
                isinstance(extra, Mapping)):
            raise _Inexpressible("a bound on properties beside named ones")
        if "if" in schema:
            chain = _tag_chain(schema)
            if chain is not None:
                return self._tagged(uri, pointer, schema, *chain)
        return _Part(frozenset({"object"}), self.struct(uri, pointer, schema))

    def _tagged(self, uri: str, pointer: str, schema: Mapping[str, Any], tag: str,
                branches: list[tuple[frozenset[Any], Mapping[str, Any]]],
                rest: Mapping[str, Any]) -> _Part:
        base = {key: value for key, value in schema.items() if key not in ("if", "then",
                                                                           "else")}
        _, _, tag_schema = self._deref(uri, pointer, base.get("properties", {}).get(tag, {}))
        tag_words = set(tag_schema) - _ANNOTATIONS
        if "enum" in tag_schema and tag_words == {"enum"}:
            values = list(tag_schema["enum"])
        elif "const" in tag_schema and tag_words == {"const"}:
            values = [tag_schema["const"]]
        elif tag_schema.get("type") == "string" and tag_words == {"type"}:
            values = [value for named, _ in branches for value in named]
        else:
            raise _Inexpressible("a tag of other values")
        chosen = list(dict.fromkeys(value for value in values if type(value) is str))
        if not chosen:
            raise _Inexpressible("no tag value")
        if len(chosen) == 1:
            # msgspec requires a tag only to choose among a union's Structs: a lone tagged
            # Struct takes a value without one. The one value is a required field instead.
            value = chosen[0]
            extra = next((then for named, then in branches if value in named), rest)
            return _Part(frozenset({"object"}), self.struct(
                uri, f"{pointer}/{tag}={value}", _merged(dict(base), dict(extra)),
                overrides={tag: (Literal[value], True)}))
        variants = []
        for value in chosen:
            extra = next((then for named, then in branches if value in named), rest)
            variant = _merged(dict(base), dict(extra))
            variants.append(self.struct(uri, f"{pointer}/{tag}={value}", variant,
                                        tag=(tag, value)))
        return _Part(frozenset({"object"}), _one_of(variants))

    def struct(self, uri: str, pointer: str, schema: Mapping[str, Any], *,
               tag: tuple[str, str] | None = None,
               overrides: Mapping[str, tuple[Any, bool]] | None = None) -> type:
        """A Struct for an object schema. ``overrides`` replace or add fields: name ->
        (type, required); ``tag`` makes it one member of a tagged union."""
        words = set(schema) - _ANNOTATIONS - _OTHER_KIND_WORDS_OF_OBJECT
        if "object" in _excluded_types(schema):
            raise _Inexpressible("not an object")
        words.discard("not")
        if words - _STRUCT_WORDS or schema.get("additionalProperties", True) not in (
                True, False) or "object" not in _types_of(schema):
            raise _Inexpressible(f"object keywords {sorted(words - _STRUCT_WORDS)}")
        properties = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        checks: list[Callable[[Any], bool]] = []
        # Of an anyOf of required lists, the first is required: a value that meets only
        # another is not decoded here. A check of which fields are present on every value
        # would cost each line a Python call (0.7 us a Responses line, 2026-12-07).
        groups = schema.get("anyOf", ())
        if not _only_required(groups):
            raise _Inexpressible("anyOf beside properties")
        if groups:
            required += [name for name in groups[0]["required"] if name not in required]
        names = list(properties) + [name for name in required if name not in properties]
        conditional = None
        if "if" in schema:
            conditional = _required_conditional(schema)
            if conditional is None:
                raise _Inexpressible("if/then/else")
        for group in list(conditional) if conditional else []:
            names += [name for name in group if name not in names]
        for name, (_, must) in (overrides or {}).items():
            if name in required and not must:
                raise _Inexpressible(f"{name} is required")
            if name not in names:
                names.append(name)
        taken: set[str] = set()
        fields: list[Any] = []
        attributes: dict[str, str] = {}
        raw_checks: list[tuple[str, Any]] = []
        for name in names:
            if tag is not None and name == tag[0]:
                continue
            attribute = _attribute(name, taken)
            attributes[name] = attribute
            override = (overrides or {}).get(name)
            # An override of no type keeps the schema's, and says only whether it must be.
            is_required = name in required or (override is not None and override[1])
            if override is not None and override[0] is not None:
                type_, is_required = override
            elif name in properties:
                try:
                    type_ = self.part(uri, f"{pointer}/properties/{name}",
                                      properties[name]).type
                except _Inexpressible:
                    if not is_required:
                        # A value holding it is not decoded here: a check on every value
                        # would cost each line what only the few holding it need.
                        type_, is_required = UnsetType, False
                    else:
                        type_ = msgspec.Raw
                        raw_checks.append((attribute, self.residual(uri, properties[name])))
            else:
                type_ = Any
            if is_required:
                fields.append((attribute, type_, msgspec.field(name=name)))
            else:
                fields.append((attribute, type_ | UnsetType,
                               msgspec.field(default=UNSET, name=name)))
        for attribute, validator in raw_checks:
            checks.append(_raw_check(attribute, validator))
        if conditional:
            when, then, otherwise = conditional
            checks.append(_present_if([attributes[n] for n in when],
                                      [attributes[n] for n in then],
                                      [attributes[n] for n in otherwise]))
        namespace: dict[str, Any] = {}
        if checks:
            namespace["__post_init__"] = _post_init(checks)
        self._names += 1
        # Decoded values hold no cycles: the collector need not track them.
        options: dict[str, Any] = {"kw_only": True, "gc": False,
                                   "forbid_unknown_fields": True}
        if tag is not None:
            options.update(tag_field=tag[0], tag=tag[1])
        return msgspec.defstruct(f"Typed{self._names}", fields, namespace=namespace,
                                 **options)

    def residual(self, uri: str, schema: Any) -> Any:
        """The compiled schema engine for one part of the schema ``uri``: what the types
        could not say. The part is compiled in a document of its own beside ``uri``, with
        that schema's ``$defs``, so its references mean what they mean there."""
        self._names += 1
        document: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{uri}.part{self._names}",
            "$defs": self.schemas[uri].get("$defs", {})}
        if isinstance(schema, Mapping):
            document.update({key: value for key, value in schema.items() if key != "$id"})
        elif schema is False:
            document["not"] = {}
        return jsonschema_rs.validator_for(document, registry=_registries()[1],
                                           retriever=_refuse_remote)


_STRING_WORDS = frozenset({"minLength", "maxLength", "pattern", "format",
                           "contentEncoding", "contentMediaType"})
_NUMBER_WORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                           "multipleOf"})
_ARRAY_WORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems", "prefixItems",
                          "contains", "minContains", "maxContains", "unevaluatedItems"})
_OBJECT_WORDS = frozenset({"properties", "required", "additionalProperties",
                           "minProperties", "maxProperties", "if", "then", "else", "anyOf",
                           "propertyNames", "patternProperties", "dependentRequired",
                           "dependentSchemas", "unevaluatedProperties"})
#: Keywords of one JSON kind that a schema of several types holds for its other kinds:
#: they say nothing about this kind. Those no type can state are left out, so that a
#: kind that meets one refuses it; each kind checks its own words against what it says.
_OTHER_KIND_WORDS = (_STRING_WORDS | _NUMBER_WORDS | _ARRAY_WORDS | _OBJECT_WORDS) - \
    frozenset({"format", "uniqueItems", "prefixItems", "contains", "minContains",
               "maxContains", "unevaluatedItems", "contentEncoding", "contentMediaType"})
_OTHER_KIND_WORDS_OF_OBJECT = _STRING_WORDS | _NUMBER_WORDS | _ARRAY_WORDS

_UNSAID_OBJECT_WORDS = frozenset({"propertyNames", "patternProperties", "dependentRequired",
                                  "dependentSchemas", "unevaluatedProperties"})
_STRUCT_WORDS = frozenset({"type", "properties", "required", "additionalProperties", "anyOf",
                           "if", "then", "else"})


def _types_of(schema: Mapping[str, Any]) -> set[str]:
    kinds = schema.get("type", "object")
    return {kinds} if isinstance(kinds, str) else set(kinds)


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Two schemas that must both hold, as one where that can be said simply."""
    merged = dict(base)
    for key, value in extra.items():
        if key in _ANNOTATIONS:
            continue
        if key not in merged:
            merged[key] = value
        elif key == "required":
            merged[key] = list(dict.fromkeys(list(merged[key]) + list(value)))
        elif key == "properties":
            properties = dict(merged[key])
            for name, sub in value.items():
                properties[name] = {"allOf": [properties[name], sub]} if name in properties \
                    else sub
            merged[key] = properties
        elif merged[key] != value:
            raise _Inexpressible(f"two {key}")
    return merged


def _excluded_types(schema: Mapping[str, Any]) -> set[str]:
    negated = schema.get("not")
    if negated is None:
        return set()
    if isinstance(negated, Mapping) and set(negated) - _ANNOTATIONS == {"type"}:
        kinds = negated["type"]
        return {kinds} if isinstance(kinds, str) else set(kinds)
    raise _Inexpressible("not")


def _only_required(alternatives: Sequence[Any]) -> bool:
    return all(isinstance(item, Mapping) and set(item) - _ANNOTATIONS == {"required"}
               for item in alternatives)


def _tag_chain(schema: Mapping[str, Any]
               ) -> tuple[str, list[tuple[frozenset[Any], Mapping[str, Any]]],
                          Mapping[str, Any]] | None:
    """(tag, [(values, then)...], what holds for other values) of an ``if`` chain that
    tests one required property against constants, or None."""
    tag = None
    branches: list[tuple[frozenset[Any], Mapping[str, Any]]] = []
    node: Mapping[str, Any] = schema
    while "if" in node:
        test = node["if"]
        if not isinstance(test, Mapping) or set(test) - _ANNOTATIONS - {"required"} != {
                "properties"} or len(test["properties"]) != 1:
            return None
        (name, condition), = test["properties"].items()
        if not isinstance(condition, Mapping):
            return None
        words = set(condition) - _ANNOTATIONS
        if words == {"const"}:
            values = frozenset([condition["const"]])
        elif words == {"enum"}:
            values = frozenset(condition["enum"])
        else:
            return None
        if tag is not None and name != tag:
            return None
        tag = name
        then = node.get("then", {})
        if not isinstance(then, Mapping):
            return None
        branches.append((values, then))
        node = node.get("else", {})
        if not isinstance(node, Mapping):
            return None
    rest = {key: value for key, value in node.items() if key not in _ANNOTATIONS}
    if tag is None or tag not in schema.get("required", ()):
        return None
    return tag, branches, rest


def _required_conditional(schema: Mapping[str, Any]
                          ) -> tuple[list[str], list[str], list[str]] | None:
    """(if, then, else) required lists of an ``if`` that only tests presence."""
    parts = [schema.get(word, {}) for word in ("if", "then", "else")]
    if not all(isinstance(part, Mapping) and set(part) - _ANNOTATIONS <= {"required"}
               for part in parts):
        return None
    when, then, otherwise = (list(part.get("required", [])) for part in parts)
    return when, then, otherwise


def _raw_check(attribute: str, validator: Any) -> Callable[[Any], bool]:
    decode = msgspec.json.Decoder().decode
    is_valid = validator.is_valid

    def check(value: Any) -> bool:
        raw = getattr(value, attribute)
        if raw is UNSET:
            return True
        try:
            return bool(is_valid(decode(raw)))
        except Exception:  # anything the engine cannot take is not decoded here
            return False

    return check


def _present_if(when: list[str], then: list[str], otherwise: list[str]
                ) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        holds = all(getattr(value, name) is not UNSET for name in when)
        return all(getattr(value, name) is not UNSET for name in (then if holds else otherwise))
    return check


def _post_init(checks: list[Callable[[Any], bool]]) -> Callable[[Any], None]:
    def __post_init__(self: Any) -> None:  # msgspec's hook
        for check in checks:
            if not check(self):
                raise ValueError("not accepted by the schema")
    return __post_init__


@functools.cache
def _generator() -> _Generator:
    return _Generator()


@functools.lru_cache(maxsize=64)
def body_type(schema_uri: str, overrides: tuple[tuple[str, Any, bool], ...] = ()
              ) -> type | None:
    """The Struct a body must decode into to pass the shipped schema ``schema_uri``, with
    ``overrides`` (name, type, required) replacing or adding top-level fields; None when
    the schema's top level is not an object with named properties these types can say."""
    generator = _generator()
    schema = generator.schemas.get(schema_uri)
    if schema is None:
        return None
    try:
        if "if" in schema and _tag_chain(schema) is not None:
            return None
        return generator.struct(schema_uri, "", schema, overrides={
            name: (type_, required) for name, type_, required in overrides})
    except _Inexpressible:
        return None


def value_type(schema_uri: str) -> Any:
    """The type any value must decode into to pass the shipped schema ``schema_uri`` (for
    tests and tools); raises ValueError where its top level cannot be said."""
    generator = _generator()
    try:
        return generator.part(schema_uri, "", generator.schemas[schema_uri]).type
    except _Inexpressible as exc:
        raise ValueError(f"{schema_uri}: {exc}") from None


def accepts(type_: Any, value: Any) -> bool:
    """Whether ``value`` decodes into ``type_``."""
    try:
        msgspec.json.decode(msgspec.json.encode(value), type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return True


def line_decoder(*, id_field: str, id_type: Any, body_field: str, body_uri: str,
                 envelope: Mapping[str, str], model: str | None,
                 forbidden: frozenset[str], present: Mapping[str, bool] | None = None
                 ) -> Callable[[bytes], Any] | None:
    """The decoder of one request line whose envelope is fixed: its id (``id_type``), the
    ``envelope`` fields with these exact values (``method``, ``url``), a body that passes
    ``body_uri`` and names exactly ``model`` (or none, for None), and holds none of the
    ``forbidden`` fields; nothing else on the line. The value it gives has the id as
    ``.id`` and the body as ``.body``. ``present`` names body fields that must be there
    (True) or not (False), their values as the schema has them. None when the body's schema
    cannot be said here."""
    present = present or {}
    overrides: list[tuple[str, Any, bool]] = [(name, UnsetType, False)
                                              for name in sorted(forbidden - {"model"})
                                              if present.get(name) is not True]
    overrides += [(name, None if must else UnsetType, must)
                  for name, must in sorted(present.items()) if name != "model"
                  and (must or name not in forbidden)]
    if model is None:
        overrides.append(("model", UnsetType, False))
    else:
        schema = _generator().schemas.get(body_uri, {})
        declared = schema.get("properties", {}).get("model")
        if declared is None:
            return None
        try:
            model_type = _generator().part(body_uri, "/properties/model", declared).type
        except _Inexpressible:
            return None
        if not accepts(model_type, model):
            return None
        overrides.append(("model", Literal[model], True))
    body = body_type(body_uri, tuple(overrides))
    if body is None:
        return None
    taken = {"id", "body"}
    fields: list[Any] = [("id", id_type, msgspec.field(name=id_field)),
                         ("body", body, msgspec.field(name=body_field))]
    for name, value in envelope.items():
        fields.append((_attribute(name, taken), Literal[value], msgspec.field(name=name)))
    line = msgspec.defstruct("TypedLine", fields, kw_only=True, gc=False,
                             forbid_unknown_fields=True)
    return msgspec.json.Decoder(line).decode
