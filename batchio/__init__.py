"""batchio: read, write, build, validate, shard and join the JSONL files of LLM batch APIs.

The public API is what this module exports (``__all__``); every other name is private,
whatever module it lives in. Each exported object says ``batchio`` as its module.
"""

from ._version import __version__
from .batch import (
    Batch,
    BatchErrorEntry,
    BatchHistory,
    BatchStatus,
    CrossCheck,
    Progress,
    RequestCounts,
    load_batches,
)
from .bodies import TokenCounter, estimate_tokens
from .building import RequestWriter
from .campaign import Campaign, CampaignStatus, FinalTable, Recording, RetryRound, RoundStatus
from .conversion import Conversion, convert, convert_results
from .errors import (
    CODES,
    BatchioError,
    BatchioWarning,
    BatchObjectError,
    DuplicateIdError,
    JoinError,
    LimitError,
    LineError,
    Problem,
    SourceError,
    UsageError,
)
from .estimating import Calibration, Estimate, FileEstimate, ModelEstimate, calibrate, estimate
from .handoff import write_results
from .ids import CallerKeys, ContentHashIds, IdStrategy, SequenceIds, UuidIds
from .jsonl import JsonlWriter, Line, read_lines, write_lines
from .kinds import FileKind, inspect
from .outputs import OUTPUT_CHECKS
from .parallel_join import write_join
from .pricing import Price, PriceTable, TokenUsage, load_prices
from .providers import (
    PROVIDERS,
    Detection,
    IdRule,
    Limits,
    Outcome,
    Profile,
    detect_provider,
    get_profile,
)
from .reconcile import (
    Join,
    JoinedRow,
    JoinSummary,
    ResultRef,
    RetryWriter,
    join,
    should_retry,
    write_retry,
)
from .results import COLUMNS
from .sharding import Manifest, ShardInfo, ShardLimits, split
from .simulation import Simulation, simulate
from .structured import structured_output
from .validation import Report, validate, validate_files, validate_results

__all__ = [
    "Batch",
    "BatchErrorEntry",
    "BatchHistory",
    "BatchObjectError",
    "BatchStatus",
    "BatchioError",
    "BatchioWarning",
    "CODES",
    "COLUMNS",
    "Calibration",
    "CallerKeys",
    "Campaign",
    "CampaignStatus",
    "ContentHashIds",
    "Conversion",
    "CrossCheck",
    "Detection",
    "DuplicateIdError",
    "Estimate",
    "FileEstimate",
    "FileKind",
    "FinalTable",
    "IdRule",
    "IdStrategy",
    "Join",
    "JoinError",
    "JoinSummary",
    "JoinedRow",
    "JsonlWriter",
    "LimitError",
    "Limits",
    "Line",
    "LineError",
    "Manifest",
    "ModelEstimate",
    "OUTPUT_CHECKS",
    "Outcome",
    "PROVIDERS",
    "Price",
    "PriceTable",
    "Problem",
    "Profile",
    "Progress",
    "Recording",
    "Report",
    "RequestCounts",
    "RequestWriter",
    "ResultRef",
    "RetryRound",
    "RetryWriter",
    "RoundStatus",
    "SequenceIds",
    "ShardInfo",
    "ShardLimits",
    "Simulation",
    "SourceError",
    "TokenCounter",
    "TokenUsage",
    "UsageError",
    "UuidIds",
    "__version__",
    "calibrate",
    "convert",
    "convert_results",
    "detect_provider",
    "estimate",
    "estimate_tokens",
    "get_profile",
    "inspect",
    "join",
    "load_batches",
    "load_prices",
    "read_lines",
    "should_retry",
    "simulate",
    "split",
    "structured_output",
    "validate",
    "validate_files",
    "validate_results",
    "write_lines",
    "write_join",
    "write_results",
    "write_retry",
]

for _name in __all__:
    _value = globals()[_name]
    if callable(_value) and getattr(_value, "__module__", "").startswith("batchio."):
        _value.__module__ = "batchio"
del _name, _value
