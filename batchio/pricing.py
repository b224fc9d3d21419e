"""Token usage and its cost at batch prices.

Owns :class:`TokenUsage` (tokens summed per model), the price table (:class:`Price`,
:class:`PriceTable`, :func:`load_prices`; the shipped one is ``batchio/prices.json``, every
entry with the date it was read, its source and an ``uncertain`` flag) and
:func:`cost_report`. A model the table does not hold is reported as unpriced, never
guessed; a model id with a release-date suffix (``gpt-4o-mini-2024-07-18``,
``claude-haiku-4-5-20251001``) is priced as its undated name when only that is listed.

Cost per model, at batch prices, per million tokens: uncached input at the batch input
price, cached input at the batch cached-input price (the batch input price where none is
listed: an upper bound, flagged uncertain), output (reasoning included) at the batch
output price.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from .errors import SourceError, UsageError

PRICES_PATH = Path(__file__).with_name("prices.json")

# A release date at the end of a model id: -2024-07-18 or -20251001.
_DATED = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})\Z")


@dataclass
class TokenUsage:
    """Tokens summed over the requests of one model: ``input`` includes ``cached``,
    ``output`` includes ``reasoning``."""

    requests: int = 0
    input: int = 0
    cached: int = 0
    output: int = 0
    reasoning: int = 0
    #: Input tokens written to a prompt cache (Anthropic), part of ``input``.
    cache_writes: int = 0

    def add(self, input_tokens: int | None, cached: int | None, output: int | None,
            reasoning: int | None, cache_writes: int | None = None) -> None:
        self.requests += 1
        self.input += input_tokens or 0
        self.cached += cached or 0
        self.output += output or 0
        self.reasoning += reasoning or 0
        self.cache_writes += cache_writes or 0

    def merge(self, other: TokenUsage) -> None:
        """Add another tally of the same model (another part of the same job)."""
        self.requests += other.requests
        self.input += other.input
        self.cached += other.cached
        self.output += other.output
        self.reasoning += other.reasoning
        self.cache_writes += other.cache_writes

    def to_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "input_tokens": self.input,
                "cached_tokens": self.cached, "cache_write_tokens": self.cache_writes,
                "output_tokens": self.output, "reasoning_tokens": self.reasoning}


@dataclass(frozen=True, slots=True)
class Price:
    """One model's prices in USD per million tokens, standard and batch, with the date they
    were read and their source."""

    provider: str
    model: str
    input: float
    output: float | None
    batch_input: float
    batch_output: float | None
    date: str
    source: str
    cached_input: float | None = None
    batch_cached_input: float | None = None
    uncertain: bool = False
    note: str | None = None

    def cost(self, usage: TokenUsage) -> tuple[float, bool]:
        """(USD, uncertain) of ``usage`` at this model's batch prices."""
        return self.cost_of(usage.input, usage.cached, usage.output, usage.cache_writes)

    def cost_of(self, input_tokens: int, cached: int, output: int, cache_writes: int = 0
                ) -> tuple[float, bool]:
        """(USD, uncertain) of these tokens at this model's batch prices: the one rule, for
        a model's sum and for one answer alike (``input_tokens`` includes the cached
        tokens and the cache writes; ``output`` the reasoning tokens)."""
        uncertain = self.uncertain
        cached_price = self.batch_cached_input
        if cached_price is None:
            cached_price = self.batch_input
            uncertain = uncertain or cached > 0
        output_price = self.batch_output or 0.0
        # Cache writes cost 1.25x the input price for five-minute entries and 2x for
        # one-hour ones (Anthropic's pricing page); usage does not always say which, so
        # they are priced at 1.25x and the figure is flagged.
        uncached = input_tokens - cached - cache_writes
        dollars = (uncached * self.batch_input + cached * cached_price
                   + cache_writes * self.batch_input * 1.25
                   + output * output_price) / 1_000_000
        return dollars, uncertain or cache_writes > 0


class PriceTable:
    """Prices by (provider, model)."""

    def __init__(self, prices: Iterable[Price]) -> None:
        self.prices: dict[tuple[str, str], Price] = {
            (price.provider, price.model): price for price in prices}
        # A listed dated id also prices its undated name (claude-haiku-4-5-20251001 for
        # claude-haiku-4-5), where that name is not listed itself and no two dated ids
        # share it.
        undated: dict[tuple[str, str], list[Price]] = {}
        for (provider, model), price in self.prices.items():
            if _DATED.search(model):
                undated.setdefault((provider, _DATED.sub("", model)), []).append(price)
        self._undated = {key: found[0] for key, found in undated.items()
                         if len(found) == 1 and key not in self.prices}

    def find(self, provider: str, model: str) -> Price | None:
        """The price of ``model`` on ``provider``: its own entry, else (for a dated id) the
        entry of its undated name; None when neither is listed."""
        price = self.prices.get((provider, model)) or self._undated.get((provider, model))
        if price is None and _DATED.search(model):
            price = self.prices.get((provider, _DATED.sub("", model)))
        if price is None and model.startswith("models/"):  # Gemini's resource name
            return self.find(provider, model.removeprefix("models/"))
        return price

    def providers_of(self, model: str) -> list[str]:
        """The providers whose prices list ``model`` (its own entry or its undated name),
        in the table's order: who serves it, as far as batchio knows."""
        providers = dict.fromkeys(provider for provider, _ in self.prices)
        return [provider for provider in providers if self.find(provider, model) is not None]

    def __len__(self) -> int:
        return len(self.prices)


_PRICE_FIELDS = {field.name for field in fields(Price)}


def load_prices(path: str | os.PathLike[str] | None = None) -> PriceTable:
    """The price table in ``path`` (default: the shipped ``batchio/prices.json``)."""
    if path is None:
        return _shipped_prices()
    return _read_prices(Path(path))


@cache
def _shipped_prices() -> PriceTable:
    return _read_prices(PRICES_PATH)


def _read_prices(path: Path) -> PriceTable:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise SourceError(f"cannot read the price table {path}: {exc.strerror or exc}",
                          path=str(path), code="unreadable_file") from exc
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"the price table {path} is not JSON: {exc}") from exc
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"the price table {path} has no list of entries")
    prices = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise UsageError(f"entry {number} of the price table {path} is not an object")
        try:
            prices.append(Price(**{key: value for key, value in entry.items()
                                   if key in _PRICE_FIELDS}))
        except TypeError as exc:
            raise UsageError(f"entry {number} of the price table {path}: {exc}") from exc
    return PriceTable(prices)


def cost_report(provider: str, usage: Mapping[str, TokenUsage],
                prices: PriceTable | None = None) -> dict[str, Any]:
    """Cost per model and in total at batch prices: ``{"currency", "total", "models":
    {model: {"cost", "uncertain", "price_date", "source"}}, "unpriced": [models]}``."""
    table = prices or load_prices()
    models: dict[str, Any] = {}
    unpriced: list[str] = []
    total = 0.0
    for model, tokens in sorted(usage.items()):
        price = table.find(provider, model)
        if price is None:
            unpriced.append(model)
            continue
        dollars, uncertain = price.cost(tokens)
        total += dollars
        models[model] = {"cost": round(dollars, 6), "uncertain": uncertain,
                         "price_date": price.date, "source": price.source}
    return {"currency": "USD", "at": "batch prices", "total": round(total, 6),
            "models": models, "unpriced": unpriced}


#: Providers that serve only their own models: a model listed only under some of them is
#: theirs. (Azure and vLLM name models by the user's deployments: never a foreign model.)
OWN_MODELS = frozenset({"openai", "anthropic", "gemini", "mistral"})
#: The model makers whose models a cloud serves in batch (the clouds' model lists):
#: Bedrock serves Anthropic's and Mistral's, Vertex AI Google's and Anthropic's.
RESOLD = {"bedrock": frozenset({"anthropic", "mistral"}),
          "vertex": frozenset({"gemini", "anthropic"})}


def foreign_model(provider: str, model: str, prices: PriceTable | None = None
                  ) -> list[str] | None:
    """The providers that serve ``model`` when none of them is ``provider`` and all serve
    only their own models (``gpt-4o-mini`` in an Anthropic file): a request the provider
    will refuse for its model. None otherwise, and for a model no price lists."""
    if provider in ("azure", "vllm"):
        return None
    serving = (prices or load_prices()).providers_of(model)
    if not serving or provider in serving or not set(serving) <= OWN_MODELS \
            or set(serving) & RESOLD.get(provider, frozenset()):
        return None
    return serving


class AnswerCost:
    """The cost of one answer at batch prices (what a row's ``cost_usd`` holds): its
    tokens priced as :func:`cost_report` prices a model's sum, None where the model has no
    price or the answer reports no tokens."""

    def __init__(self, provider: str, prices: PriceTable | None = None) -> None:
        self.provider = provider
        self.table = prices or load_prices()
        self._prices: dict[str, Price | None] = {}

    def __call__(self, model: str | None, input_tokens: int | None, cached: int | None,
                 output: int | None, cache_writes: int | None = None) -> float | None:
        if model is None or (input_tokens is None and output is None):
            return None
        price = self._prices.get(model, _UNSEEN)
        if price is _UNSEEN:
            price = self._prices[model] = self.table.find(self.provider, model)
        if price is None or not isinstance(price, Price):
            return None
        return price.cost_of(input_tokens or 0, cached or 0, output or 0, cache_writes or 0)[0]


_UNSEEN: Any = object()

__all__ = ["PRICES_PATH", "AnswerCost", "Price", "PriceTable", "TokenUsage", "cost_report",
           "load_prices"]
