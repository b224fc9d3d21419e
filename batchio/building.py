"""Building request files: bodies in, request lines with unique custom_ids out, checked.

Owns :class:`RequestWriter`: each body is checked by the same schemas and codes as
:func:`batchio.validate` before anything is written for it, its id made by an id strategy
(:mod:`batchio.ids`) and checked by the provider's id rule, and its line written to one file
or rolled over into shards (:mod:`batchio.sharding`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .bodies import body_is_clean, body_problems, embedding_inputs, estimate_tokens
from .errors import DuplicateIdError, LimitError, LineError, UsageError, quote
from .ids import IdStrategy, SequenceIds
from .jsonl import ClosesOnExit, JsonlWriter, dumps_line
from .providers import Profile, get_profile
from .schemas import compiled
from .sharding import Manifest, Sharder, ShardFolder, ShardLimits

#: Targets that are one file, not a folder of shards, when ``folder`` is not said.
_FILE_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".jsonl.zst", ".gz", ".zst")


class RequestWriter(ClosesOnExit):
    """Turn request bodies into request lines with unique custom_ids, checked and sharded.

    ``target`` is a folder (shards ``requests-00001.jsonl``... plus ``manifest.json``) or
    one file (``-`` is stdout, ``.gz``/``.zst`` compress; going over a limit raises
    :class:`LimitError`); ``folder`` says which, and by default a ``.jsonl`` (or
    compressed) name or ``-`` is a file and anything else a folder. A folder that already
    holds shards or a manifest is refused unless ``overwrite=True``. Every body is checked
    against its endpoint's schema before anything is written for it; a bad body or a
    duplicate id raises, and the writer stays usable. Use as a context manager: on leaving,
    open shards are finished and the manifest written; on an exception, the unfinished
    shards are discarded and the manifest lists only whole ones.

    ``token_counter`` estimates a body's tokens (default :func:`estimate_tokens`); it runs
    when ``max_tokens_per_file`` is set or ``count_tokens=True``, and the manifest reports
    each shard's estimate (0 when not counted).
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        endpoint: str | None = None,
        provider: str | Profile = "openai",
        ids: IdStrategy | None = None,
        max_requests: int | None = None,
        max_bytes: int | None = None,
        max_embedding_inputs: int | None = None,
        max_tokens_per_file: int | None = None,
        token_counter: Callable[[Mapping[str, Any]], int] = estimate_tokens,
        count_tokens: bool | None = None,
        group_by_model: bool = False,
        validate: bool = True,
        prefix: str = "requests",
        folder: bool | None = None,
        overwrite: bool = False,
    ) -> None:
        self.profile = get_profile(provider)
        self.endpoint = endpoint or self.profile.default_endpoint
        schema_name = self.profile.schema_for(self.endpoint)
        if schema_name is None:
            raise UsageError(f"endpoint {self.endpoint!r} is not accepted by "
                             f"{self.profile.title}; expected one of "
                             f"{self.profile.endpoint_list()}", code="unsupported_url")
        self.ids = ids or SequenceIds()
        self.token_counter = token_counter
        # Estimating walks every body: done only when a budget needs it or it is asked for.
        self.count_tokens = (max_tokens_per_file is not None if count_tokens is None
                             else count_tokens)
        self.group_by_model = group_by_model
        self.validate = validate
        self.count = 0
        self._seen: dict[str, int] = {}
        self._first_model: str | None = None
        self._schema = compiled(schema_name)
        self._body_is_clean = body_is_clean
        self._model_required = self.endpoint in self.profile.model_required
        self._misplaced_names = frozenset(self.profile.misplaced.get(self.endpoint, {})) or None
        self._counting_inputs = self.endpoint.endswith("/embeddings")
        self._id_field, self._body_field = self.profile.id_field, self.profile.body_field
        self._carries_url = self.profile.carries_url
        limits = ShardLimits.for_profile(
            self.profile, max_requests=max_requests, max_bytes=max_bytes,
            max_embedding_inputs=max_embedding_inputs, max_tokens=max_tokens_per_file)
        name = os.fspath(target)
        if folder is None:
            folder = not (name == "-" or name.lower().endswith(_FILE_SUFFIXES))
        self.single_file = not folder
        self._limits = limits
        self._sharder: Sharder | None = None
        self._file: JsonlWriter | None = None
        self._file_bytes = self._file_inputs = self._file_tokens = 0
        if folder:
            self.folder = name
            self._sharder = Sharder(ShardFolder(name, prefix, overwrite), limits,
                                    group_by_model, prefix, self.profile)
        else:
            self.folder = os.path.dirname(os.path.abspath(name))
            self._file = JsonlWriter(name)
        self.manifest: Manifest | None = None

    def add(self, body: Mapping[str, Any], *, custom_id: str | None = None,
            url: str | None = None, row: int | None = None) -> str:
        """Write one request; returns the custom_id used.

        Raises :class:`LineError` for a body that breaks its schema, holds a value JSON
        cannot carry, or has an id that breaks the provider's rules;
        :class:`DuplicateIdError` for an id already used (naming both rows);
        :class:`LimitError` for a request too large for any file. ``row`` is the caller's
        number for the request (the line of its row file), which messages name; by
        default, its place among the writer's requests.
        """
        place = self.count + 1
        row = place if row is None else row
        if url is not None and url != self.endpoint:
            raise LineError(f"row {row}: url {quote(url, 60)} differs from the writer's "
                            f"endpoint {self.endpoint!r}", code="url_mismatch", line=row)
        if custom_id is None:
            custom_id = self.ids.make_id(body, url=self.endpoint, index=self.count)
        self._check_id(custom_id, row)
        # type() first: an isinstance check against the Mapping ABC costs half a microsecond.
        if type(body) is not dict and not isinstance(body, Mapping):
            raise LineError(f"row {row}: the body must be a mapping, not "
                            f"{type(body).__name__}", code="body_not_object", line=row,
                            custom_id=custom_id)
        if self._carries_url:
            line = {self._id_field: custom_id, "method": "POST", "url": self.endpoint,
                    self._body_field: body}
        else:
            line = {self._id_field: custom_id, self._body_field: body}
        try:
            # Written first: a value JSON cannot carry (bytes, a set, a key that is not a
            # string) is its own error, before the schema's engine meets it.
            raw = dumps_line(line)
        except LineError as exc:
            # The path is the line's own (body.…), as the validator names it.
            raise LineError(f"row {row}: {exc.message}", code=exc.code, line=row,
                            custom_id=custom_id, param=exc.param) from exc
        model = self._check_body(body, custom_id, row)
        tokens = self.token_counter(body) if self.count_tokens else 0
        inputs = embedding_inputs(body) if self._counting_inputs else 0
        if self._sharder is not None:
            self._sharder.add(raw, custom_id, model, self.endpoint, tokens, inputs, "row", row)
        else:
            self._add_to_file(raw, custom_id, tokens, inputs, row)
        self._seen[custom_id] = row
        self.count = place
        return custom_id

    def add_many(self, bodies: Iterable[Mapping[str, Any]]) -> list[str]:
        """Add each body with a made-up id; returns the ids."""
        return [self.add(body) for body in bodies]

    def _check_id(self, custom_id: Any, row: int) -> None:
        """The provider's id rule (the one the validator applies), then uniqueness."""
        problem = self.profile.ids.problem(custom_id, "custom_id")
        if problem is not None:
            code = "invalid_custom_id" if problem[0] == "missing_custom_id" else problem[0]
            raise LineError(f"row {row}: {problem[1]}", code=code, line=row,
                            custom_id=custom_id if type(custom_id) is str else None)
        first = self._seen.get(custom_id)
        if first is not None:
            raise DuplicateIdError(f"custom_id {quote(custom_id)} of row {row} was already "
                                   f"used by row {first}", line=row, custom_id=custom_id)

    def _check_body(self, body: Any, custom_id: str, row: int) -> str | None:
        """The body's schema and model rules (the validator's); returns its model. The
        body is a mapping (:meth:`add` has checked)."""
        model = body.get("model")
        if not self.validate:
            return model if type(model) is str else None
        if not self._body_is_clean(self._schema, body, self._model_required,
                                   self._misplaced_names):
            problem = next(body_problems(
                self._schema, body if type(body) is dict else dict(body),
                self.profile.body_field, self.endpoint, model_required=self._model_required,
                misplaced=self.profile.misplaced.get(self.endpoint, {})), None)
            assert problem is not None  # body_problems explains every unclean body
            raise LineError(f"row {row}: {problem.message}", line=row, custom_id=custom_id,
                            code=problem.code, param=problem.param)
        if model is None:
            return None
        if self._first_model is None:
            self._first_model = model
        elif (model != self._first_model and self.profile.mixed_models == "error"
              and not self.group_by_model):
            raise LineError(f"row {row}: model {quote(model, 60)} differs from "
                            f"{quote(self._first_model, 60)}; one model per file (or "
                            "group_by_model=True)", code="model_mismatch", line=row,
                            custom_id=custom_id)
        return model if type(model) is str else None

    def _add_to_file(self, raw: bytes, custom_id: str, tokens: int, inputs: int,
                     row: int) -> None:
        assert self._file is not None
        too_big = self._limits.too_large(len(raw), inputs, tokens)
        if too_big is not None or not self._limits.admit(
                self.count, self._file_bytes, self._file_inputs, self._file_tokens,
                line_size=len(raw), line_inputs=inputs, line_tokens=tokens):
            raise LimitError(f"row {row} (custom_id {quote(custom_id)}) would take the file "
                             "over a limit; write to a folder to shard", custom_id=custom_id,
                             line=row)
        self._file.write_raw(raw)
        self._file_bytes += len(raw)
        self._file_inputs += inputs
        self._file_tokens += tokens

    def close(self) -> Manifest | None:
        """Finish every shard and write the manifest (folder mode); returns it."""
        if self._sharder is not None:
            self.manifest = self._sharder.close()
        elif self._file is not None:
            self._file.close()
        return self.manifest

    def abort(self) -> None:
        if self._sharder is not None:
            self.manifest = self._sharder.abort()
        elif self._file is not None:
            self._file.abort()


__all__ = ["RequestWriter"]
