"""Pairing configuration: strategy names, per-strategy parameters, run options, ``pairs.yaml``.

Every parameter set is a frozen dataclass with a ``validate()`` that raises ``PairingError``
naming the strategy and the parameter, so a bad ``k`` or an unknown key fails before any
query runs. ``PairingConfig.to_dict()`` is the canonical (sorted, JSON-safe) form recorded
on the ``PairRun`` node and hashed into the run id.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pubgraph.core.errors import PairingError

POSITIVE_STRATEGIES: tuple[str, ...] = ("cites", "co_citation", "bib_coupling", "shared_mesh")
NEGATIVE_STRATEGIES: tuple[str, ...] = ("random_distant", "mesh_distant", "hard")
STRATEGIES: tuple[str, ...] = POSITIVE_STRATEGIES + NEGATIVE_STRATEGIES
#: Run when no strategy is named: all positives, plus random and hard negatives.
DEFAULT_STRATEGIES: tuple[str, ...] = (*POSITIVE_STRATEGIES, "random_distant", "hard")

SPLITS: tuple[str, ...] = ("train", "validation", "test")

Weight = Literal["salton", "jaccard"]
VectorMode = Literal["auto", "index", "exact", "off"]


def _fail(strategy: str, name: str, message: str) -> PairingError:
    return PairingError(f"{strategy}: parameter '{name}' {message}")


def _positive_int(strategy: str, name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(strategy, name, f"must be a positive integer, got {value!r}")


def _number(strategy: str, name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(strategy, name, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise _fail(strategy, name, f"must be between {low:g} and {high:g}, got {value!r}")


def _bool(strategy: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(strategy, name, f"must be true or false, got {value!r}")


@dataclass(frozen=True)
class CitesParams:
    """``cites``: A cites B, both with text. Score 1.0."""

    max_per_article: int | None = None

    def validate(self) -> None:
        _positive_int("cites", "max_per_article", self.max_per_article, allow_none=True)


@dataclass(frozen=True)
class OverlapParams:
    """``co_citation`` / ``bib_coupling``: at least ``k`` shared citers / references.

    ``weight`` is the overlap score: ``salton`` = |∩| / sqrt(|A|·|B|) or ``jaccard`` =
    |∩| / |A ∪ B|, over the citer sets (co-citation) or reference sets (coupling).
    """

    k: int = 2
    weight: Weight = "salton"
    max_per_article: int | None = None
    strategy: str = field(default="co_citation", repr=False, compare=False)

    def validate(self) -> None:
        _positive_int(self.strategy, "k", self.k)
        if self.weight not in ("salton", "jaccard"):
            raise _fail(
                self.strategy, "weight", f"must be 'salton' or 'jaccard', got {self.weight!r}"
            )
        _positive_int(self.strategy, "max_per_article", self.max_per_article, allow_none=True)


@dataclass(frozen=True)
class SharedMeshParams:
    """``shared_mesh``: at least ``k`` shared descriptors whose summed IDF is >= ``min_idf``.

    Descriptors held by more than ``max_df`` (a fraction of the articles with MeSH) are
    dropped first, so check tags (Humans, Male, Female, Animals, Adult...) make no pairs.
    ``major_only`` counts only major topics (``HAS_MESH.major``).
    """

    k: int = 2
    max_df: float = 0.005
    min_idf: float = 12.0
    major_only: bool = False
    max_per_article: int | None = None

    def validate(self) -> None:
        _positive_int("shared_mesh", "k", self.k)
        _number("shared_mesh", "max_df", self.max_df, 1e-9, 1.0)
        _number("shared_mesh", "min_idf", self.min_idf, 0.0, 1e9)
        _bool("shared_mesh", "major_only", self.major_only)
        _positive_int("shared_mesh", "max_per_article", self.max_per_article, allow_none=True)


@dataclass(frozen=True)
class RandomDistantParams:
    """``random_distant``: seeded random pairs with no shared MeSH descriptor and no
    undirected CITES path of length <= ``max_hops``. ``oversample`` proposals are drawn per
    needed pair (the graph filter rejects some). With ``max_df`` < 1, descriptors held by
    more than that fraction of the articles (check tags such as Humans) do not count as
    shared; the default 1.0 is strict: any shared descriptor rejects the pair."""

    max_hops: int = 2
    max_df: float = 1.0
    oversample: float = 2.0
    max_per_article: int | None = None

    def validate(self) -> None:
        _positive_int("random_distant", "max_hops", self.max_hops)
        _number("random_distant", "max_df", self.max_df, 1e-9, 1.0)
        if self.max_hops > 4:
            raise _fail("random_distant", "max_hops", f"must be <= 4, got {self.max_hops}")
        _number("random_distant", "oversample", self.oversample, 1.0, 100.0)
        _positive_int("random_distant", "max_per_article", self.max_per_article, allow_none=True)


@dataclass(frozen=True)
class MeshDistantParams:
    """``mesh_distant``: MeSH tree distance above ``min_distance``.

    The distance of two articles is the minimum, over their descriptor pairs, of the hop
    distance between tree numbers through the lowest common ancestor (the category letter
    counts as a level under one root: ``A01.236.500`` ↔ ``A01.378`` is 3, ``C04`` ↔ ``C15``
    is 2, ``A01`` ↔ ``C04`` is 4). Descriptors above ``max_df`` are ignored, like in
    ``shared_mesh``, so the check tags every article has do not make all distances 0.
    """

    min_distance: int = 6
    max_df: float = 0.05
    major_only: bool = False
    max_hops: int = 2
    oversample: float = 3.0
    max_per_article: int | None = None

    def validate(self) -> None:
        _positive_int("mesh_distant", "min_distance", self.min_distance)
        _number("mesh_distant", "max_df", self.max_df, 1e-9, 1.0)
        _bool("mesh_distant", "major_only", self.major_only)
        _positive_int("mesh_distant", "max_hops", self.max_hops)
        if self.max_hops > 4:
            raise _fail("mesh_distant", "max_hops", f"must be <= 4, got {self.max_hops}")
        _number("mesh_distant", "oversample", self.oversample, 1.0, 100.0)
        _positive_int("mesh_distant", "max_per_article", self.max_per_article, allow_none=True)


@dataclass(frozen=True)
class HardParams:
    """``hard`` negatives, from up to three sources (mixed round-robin):

    * ``branch``: A and B share a top-level MeSH tree (e.g. ``C04``) of a major topic;
    * ``two_hop``: A cites X cites B (SPECTER's citation-of-citation), A and B not linked;
    * ``vector``: B ranks ``rank_band[0]..rank_band[1]`` among A's nearest neighbours by
      embedding (SciNCL), used only when articles carry ``embedding``; ``auto`` uses the
      vector index when one exists, else exact cosine in numpy; ``off`` disables it.
      With ``within_split`` (the default) B is ranked among the articles of A's own split,
      so the test split's anchors get as many near negatives as the train split's (ranked
      over the whole corpus, most of a small split's near neighbours lie in other splits
      and are dropped as cross-split pairs). That ranking is exact cosine per split:
      ``auto`` uses it; ``index`` keeps ranking over the whole corpus with the index.

    Every candidate passes a false-negative guard: no CITES link (either direction) within
    1 hop (``branch``, ``two_hop``) or ``guard_hops`` hops (``vector``), and fewer than
    ``guard_major_k`` shared major MeSH descriptors.
    """

    branch: bool = True
    two_hop: bool = True
    vector: VectorMode = "auto"
    rank_band: tuple[int, int] = (20, 100)
    guard_hops: int = 2
    guard_major_k: int = 1
    max_per_article: int | None = None
    within_split: bool = True

    def validate(self) -> None:
        _bool("hard", "branch", self.branch)
        _bool("hard", "within_split", self.within_split)
        _bool("hard", "two_hop", self.two_hop)
        if self.vector not in ("auto", "index", "exact", "off"):
            raise _fail("hard", "vector", f"must be auto, index, exact or off, got {self.vector!r}")
        band = self.rank_band
        if (
            not isinstance(band, tuple)
            or len(band) != 2
            or any(isinstance(x, bool) or not isinstance(x, int) for x in band)
            or not 1 <= band[0] <= band[1]
        ):
            raise _fail(
                "hard", "rank_band", f"must be two ranks [lo, hi] with 1 <= lo <= hi, got {band!r}"
            )
        _positive_int("hard", "guard_hops", self.guard_hops)
        if self.guard_hops > 4:
            raise _fail("hard", "guard_hops", f"must be <= 4, got {self.guard_hops}")
        _positive_int("hard", "guard_major_k", self.guard_major_k)
        _positive_int("hard", "max_per_article", self.max_per_article, allow_none=True)


StrategyParams = (
    CitesParams
    | OverlapParams
    | SharedMeshParams
    | RandomDistantParams
    | MeshDistantParams
    | HardParams
)

_PARAM_CLASSES: dict[str, type[Any]] = {
    "cites": CitesParams,
    "co_citation": OverlapParams,
    "bib_coupling": OverlapParams,
    "shared_mesh": SharedMeshParams,
    "random_distant": RandomDistantParams,
    "mesh_distant": MeshDistantParams,
    "hard": HardParams,
}


def default_params(strategy: str) -> StrategyParams:
    """The default parameters of one strategy."""
    check_strategy(strategy)
    cls = _PARAM_CLASSES[strategy]
    params: StrategyParams = cls(strategy=strategy) if cls is OverlapParams else cls()
    return params


def make_params(strategy: str, values: Mapping[str, Any] | None) -> StrategyParams:
    """Parameters of ``strategy`` from a mapping (``pairs.yaml``); unknown keys are errors."""
    check_strategy(strategy)
    cls = _PARAM_CLASSES[strategy]
    values = dict(values or {})
    if not isinstance(values, dict):
        raise PairingError(f"{strategy}: parameters must be a mapping, got {values!r}")
    known = {f.name for f in dataclasses.fields(cls) if f.name != "strategy"}
    for key in values:
        if key not in known:
            raise PairingError(
                f"{strategy}: unknown parameter '{key}' (known: {', '.join(sorted(known))})"
            )
    if "rank_band" in values and isinstance(values["rank_band"], list):
        values["rank_band"] = tuple(values["rank_band"])
    if cls is OverlapParams:
        values["strategy"] = strategy
    params: StrategyParams = cls(**values)
    params.validate()
    return params


def check_strategy(name: str) -> None:
    """Raise ``PairingError`` unless ``name`` is a known strategy."""
    if name not in STRATEGIES:
        raise PairingError(f"unknown strategy '{name}' (known: {', '.join(STRATEGIES)})")


def parse_strategies(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"cites,hard"`` or a list → validated names in the given order, without repeats."""
    if value is None:
        return DEFAULT_STRATEGIES
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        check_strategy(name)
        if name not in names:
            names.append(name)
    if not names:
        raise PairingError("no strategy given (known: " + ", ".join(STRATEGIES) + ")")
    return tuple(names)


@dataclass(frozen=True)
class SplitConfig:
    """Article-level splits. By hash of (seed, pmid) with these fractions, or by year:
    with ``by_year`` Y, articles published in Y or later are the test set and older ones are
    divided between train and validation by hash in the ratio train:validation."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1
    by_year: int | None = None

    def validate(self) -> None:
        for name in SPLITS:
            _number("splits", name, getattr(self, name), 0.0, 1.0)
        if abs(self.train + self.validation + self.test - 1.0) > 1e-6:
            raise PairingError(
                "splits: train + validation + test must be 1, got "
                f"{self.train + self.validation + self.test:g}"
            )
        if self.by_year is not None and (
            isinstance(self.by_year, bool) or not isinstance(self.by_year, int)
        ):
            raise _fail("splits", "by_year", f"must be a year, got {self.by_year!r}")
        if self.by_year is not None and self.train + self.validation <= 0:
            raise PairingError("splits: by_year needs train + validation > 0")


@dataclass(frozen=True)
class PairingConfig:
    """Everything a pairing run depends on (besides the graph itself)."""

    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    seed: int = 13
    #: Default cap of pairs per article per strategy (a strategy's own ``max_per_article``
    #: overrides it), so hub articles do not dominate.
    max_pairs_per_article: int = 10
    #: Negatives per positive (1.0 = 1:1), shared evenly by the negative strategies.
    negatives_per_positive: float = 1.0
    #: Negatives to draw when the run has no positive strategy.
    negatives_without_positives: int = 1000
    splits: SplitConfig = field(default_factory=SplitConfig)
    params: Mapping[str, StrategyParams] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise ``PairingError`` for any bad value."""
        parse_strategies(self.strategies)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise PairingError(f"seed must be a non-negative integer, got {self.seed!r}")
        _positive_int("run", "max_pairs_per_article", self.max_pairs_per_article)
        _number("run", "negatives_per_positive", self.negatives_per_positive, 0.0, 1000.0)
        _positive_int("run", "negatives_without_positives", self.negatives_without_positives)
        self.splits.validate()
        for name, params in self.params.items():
            check_strategy(name)
            params.validate()

    def params_for(self, strategy: str) -> StrategyParams:
        """This run's parameters of ``strategy`` (defaults where the config has none)."""
        return self.params.get(strategy) or default_params(strategy)

    def cap_for(self, strategy: str) -> int:
        """Pairs per article allowed for ``strategy``."""
        own = getattr(self.params_for(strategy), "max_per_article", None)
        return int(own) if own is not None else self.max_pairs_per_article

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-safe form: the run's strategies with their resolved parameters."""
        out: dict[str, Any] = {
            "strategies": list(self.strategies),
            "seed": self.seed,
            "max_pairs_per_article": self.max_pairs_per_article,
            "negatives_per_positive": self.negatives_per_positive,
            "negatives_without_positives": self.negatives_without_positives,
            "splits": dataclasses.asdict(self.splits),
            "params": {},
        }
        for name in self.strategies:
            p = dataclasses.asdict(self.params_for(name))
            p.pop("strategy", None)
            if "rank_band" in p:
                p["rank_band"] = list(p["rank_band"])
            out["params"][name] = p
        return out

    def with_overrides(self, **changes: Any) -> PairingConfig:
        """A copy with some run options changed (None values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        split_year = changes.pop("split_by_year", None)
        new = dataclasses.replace(self, **changes)
        if split_year is not None:
            splits = dataclasses.replace(new.splits, by_year=split_year)
            new = dataclasses.replace(new, splits=splits)
        if "strategies" in changes:
            new = dataclasses.replace(new, strategies=parse_strategies(changes["strategies"]))
        new.validate()
        return new


def _strategy_names(value: Any, source: str) -> Any:
    """``strategies:`` must be a list of names (or one comma-separated string). A mapping
    or a list item with parameters would lose them silently: refuse it, naming the key."""
    def refuse(name: str, extra: Any) -> PairingError:
        keys = ", ".join(map(str, extra)) if isinstance(extra, Mapping) else repr(extra)
        return PairingError(
            f"{source}: 'strategies.{name}' has parameters ({keys}), but 'strategies' is a "
            f"list of names: put them under 'params: {{{name}: {{...}}}}'"
        )

    if isinstance(value, Mapping):
        for name, extra in value.items():
            if extra not in (None, {}, True):
                raise refuse(str(name), extra)
        raise PairingError(
            f"{source}: 'strategies' must be a list of names, not a mapping "
            f"(e.g. strategies: [{', '.join(map(str, value))}])"
        )
    if isinstance(value, str) or value is None:
        return value
    if not isinstance(value, Sequence):
        raise PairingError(f"{source}: 'strategies' must be a list of names, got {value!r}")
    for item in value:
        if isinstance(item, Mapping):
            name, extra = next(iter(item.items())) if item else ("?", item)
            raise refuse(str(name), extra)
        if not isinstance(item, str):
            raise PairingError(f"{source}: 'strategies' item {item!r} is not a strategy name")
    return value


_TOP_KEYS = {
    "strategies",
    "seed",
    "max_pairs_per_article",
    "negatives_per_positive",
    "negatives_without_positives",
    "splits",
    "params",
}


def config_from_dict(data: Mapping[str, Any] | None, *, source: str = "config") -> PairingConfig:
    """A validated ``PairingConfig`` from a mapping shaped like ``pairs.yaml``."""
    data = dict(data or {})
    for key in data:
        if key not in _TOP_KEYS:
            raise PairingError(
                f"{source}: unknown key '{key}' (known: {', '.join(sorted(_TOP_KEYS))})"
            )
    kwargs: dict[str, Any] = {}
    if "strategies" in data:
        kwargs["strategies"] = parse_strategies(_strategy_names(data["strategies"], source))
    for key in (
        "seed",
        "max_pairs_per_article",
        "negatives_per_positive",
        "negatives_without_positives",
    ):
        if key in data:
            kwargs[key] = data[key]
    splits = data.get("splits") or {}
    if not isinstance(splits, Mapping):
        raise PairingError(f"{source}: 'splits' must be a mapping")
    unknown = set(splits) - {f.name for f in dataclasses.fields(SplitConfig)}
    if unknown:
        raise PairingError(f"{source}: unknown key 'splits.{sorted(unknown)[0]}'")
    kwargs["splits"] = SplitConfig(**splits)
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        raise PairingError(f"{source}: 'params' must be a mapping of strategy -> parameters")
    kwargs["params"] = {name: make_params(name, values) for name, values in params.items()}
    config = PairingConfig(**kwargs)
    config.validate()
    return config


def load_config(path: str | Path | None) -> PairingConfig:
    """Read ``pairs.yaml`` (None → defaults). Errors name the file."""
    if path is None:
        return config_from_dict({})
    import yaml

    p = Path(path)
    if not p.is_file():
        raise PairingError(f"{p}: no such pairing config file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PairingError(f"{p}: not valid YAML ({exc})") from None
    if data is not None and not isinstance(data, Mapping):
        raise PairingError(f"{p}: must be a mapping at the top level")
    try:
        return config_from_dict(data, source=str(p))
    except TypeError as exc:  # e.g. splits with a wrong shape
        raise PairingError(f"{p}: {exc}") from None
