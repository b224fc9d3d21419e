"""batchio: read, write, build, validate, shard and join the JSONL files of LLM batch APIs.

The public API is re-exported here; everything else is private by name.
"""

from ._version import __version__
from .batch import Batch, BatchHistory, BatchStatus, RequestCounts, from_anthropic, load_batches
from .build import (
    CallerKeys,
    ContentHashIds,
    IdStrategy,
    Manifest,
    RequestWriter,
    SequenceIds,
    ShardInfo,
    UuidIds,
    estimate_tokens,
    split,
)
from .conversion import Conversion, convert, convert_results
from .errors import (
    CODES,
    BatchioError,
    BatchObjectError,
    DuplicateIdError,
    JoinError,
    LimitError,
    LineError,
    Problem,
    SourceError,
)
from .jsonl import JsonlWriter, Line, read_lines, write_lines
from .providers import PROVIDERS, Profile, get_profile
from .reconcile import Join, JoinedRow, JoinSummary, ResultRef, join, should_retry, write_retry
from .records import ErrorLine, OutputLine, RequestLine, Response, ResultError
from .simulation import Simulation, simulate
from .validation import Report, validate

__all__ = [
    "Batch",
    "BatchHistory",
    "BatchObjectError",
    "BatchStatus",
    "BatchioError",
    "CODES",
    "CallerKeys",
    "ContentHashIds",
    "Conversion",
    "DuplicateIdError",
    "ErrorLine",
    "IdStrategy",
    "Join",
    "JoinError",
    "JoinSummary",
    "JoinedRow",
    "JsonlWriter",
    "LimitError",
    "Line",
    "LineError",
    "Manifest",
    "OutputLine",
    "PROVIDERS",
    "Problem",
    "Profile",
    "Report",
    "RequestCounts",
    "RequestLine",
    "RequestWriter",
    "Response",
    "ResultError",
    "ResultRef",
    "SequenceIds",
    "ShardInfo",
    "Simulation",
    "SourceError",
    "UuidIds",
    "__version__",
    "convert",
    "convert_results",
    "estimate_tokens",
    "from_anthropic",
    "get_profile",
    "join",
    "load_batches",
    "read_lines",
    "should_retry",
    "simulate",
    "split",
    "validate",
    "write_lines",
    "write_retry",
]
