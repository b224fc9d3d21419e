"""The public API is deliberate: exactly these names, each saying ``batchio`` as its module."""

from __future__ import annotations

import batchio

EXPECTED = {
    "Batch", "BatchErrorEntry", "BatchHistory", "BatchObjectError", "BatchStatus",
    "BatchioError", "BatchioWarning", "CODES", "CallerKeys", "ContentHashIds", "Conversion",
    "CrossCheck",
    "Detection", "DuplicateIdError", "IdRule", "IdStrategy", "Join", "JoinError",
    "JoinSummary", "JoinedRow", "JsonlWriter", "LimitError", "Limits", "Line", "LineError",
    "Manifest", "Outcome", "PROVIDERS", "Problem", "Profile", "Progress", "Report",
    "RequestCounts", "RequestWriter", "ResultRef", "RetryWriter", "SequenceIds", "ShardInfo",
    "ShardLimits", "Simulation", "SourceError", "UsageError", "UuidIds", "__version__",
    "convert", "convert_results", "detect_provider", "estimate_tokens", "get_profile", "join",
    "load_batches", "read_lines", "should_retry", "simulate", "split", "validate",
    "validate_files", "write_lines", "write_retry",
    # Results as a table, output checks, usage, cost and estimates.
    "COLUMNS", "OUTPUT_CHECKS", "Price", "PriceTable", "TokenUsage",
    "load_prices", "TokenCounter", "Calibration", "Estimate", "FileEstimate", "ModelEstimate",
    "calibrate", "estimate", "write_join",
    # A job of several rounds.
    "Campaign", "CampaignStatus", "FinalTable", "Recording", "RetryRound", "RoundStatus",
    "write_results", "structured_output",
    # What a file is.
    "FileKind", "inspect", "validate_results",
}


def test_the_exported_names_are_exactly_the_intended_ones() -> None:
    assert set(batchio.__all__) == EXPECTED
    assert len(batchio.__all__) == len(EXPECTED)


def test_every_public_object_says_batchio_as_its_module() -> None:
    for name in batchio.__all__:
        value = getattr(batchio, name)
        if callable(value):
            assert value.__module__ == "batchio", name


def test_the_error_tree_subclasses_the_builtins() -> None:
    assert issubclass(batchio.SourceError, OSError)
    assert issubclass(batchio.SourceError, batchio.BatchioError)
    for error in (batchio.LineError, batchio.UsageError, batchio.DuplicateIdError,
                  batchio.LimitError, batchio.JoinError, batchio.BatchObjectError):
        assert issubclass(error, ValueError) and issubclass(error, batchio.BatchioError)
        assert not issubclass(error, OSError)


def test_a_file_that_cannot_be_opened_keeps_the_oserror_as_its_cause(tmp_path: object) -> None:
    import pytest

    with pytest.raises(batchio.SourceError) as raised:
        list(batchio.read_lines("/nonexistent/requests.jsonl"))
    assert isinstance(raised.value.__cause__, FileNotFoundError)
    assert raised.value.errno == 2


def test_every_code_is_in_the_table() -> None:
    from batchio.errors import BatchioError

    defaults = {str(getattr(cls, "default_code", "")) for cls in
                (BatchioError, *_subclasses(BatchioError))}
    assert defaults - {"batchio_error"} <= set(batchio.CODES)


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    subclass: type
    for subclass in cls.__subclasses__():
        found += [subclass, *_subclasses(subclass)]
    return found
