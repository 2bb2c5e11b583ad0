"""Training configuration: one frozen dataclass, read from YAML, validated up front.

Relative paths in a config file are taken relative to the current directory (run
pubgraph from the repository root, as the configs in ``configs/`` expect).

Precedence of every value (the same as for pubgraph's settings): command-line option >
environment variable > config file > default. For ``base_model``: ``--base-model`` >
``PUBGRAPH_BASE_MODEL`` > the YAML's ``base_model`` > ``base_model`` in pubgraph.toml >
all-MiniLM-L6-v2.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pubgraph.core.errors import TrainingError
from pubgraph.core.settings import DEFAULT_BASE_MODEL

LOSSES = ("cosine", "contrastive", "online_contrastive", "triplet", "mnrl", "cached_mnrl")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
EVAL_TASKS = ("pairs", "eval_file", "biosses", "pubmedqa")

# Default caps of the graph evaluation tasks (seeded subsamples): minutes, not hours, on a
# 2-core CPU.
MAX_EVAL_PAIRS = 2000
MAX_EVAL_QUERIES = 1000

# Fast mode: a tiny model and a handful of steps, for tests and smoke runs.
FAST_MAX_STEPS = 6
FAST_BATCH_SIZE = 4
FAST_MAX_SEQ_LENGTH = 32


@dataclass(frozen=True)
class TrainConfig:
    """Everything one ``pubgraph train`` run needs.

    Data: ``train_file`` is a pair file written by pairing (``pmid_a, pmid_b, label,
    strategy, score, split`` plus ``texts_file``), an export (``anchor,positive[,negative]``
    or ``text1,text2,label``) or any CSV/Parquet of those columns. Rows of ``train_split``
    train (all rows when the file has no ``split`` column); ``eval_split`` rows, or
    ``eval_file``, are evaluated every ``eval_steps``; ``test_split`` rows are the
    held-out pairs of the final evaluation.

    Losses: ``cosine`` (CosineSimilarityLoss; label 1 -> target cosine 1.0, label 0 ->
    ``negative_target``: 0.0 is the reference recipe, a positive value such as 0.3 is
    the margin form that only asks negatives to be less similar than that),
    ``contrastive`` / ``online_contrastive`` (ContrastiveLoss / OnlineContrastiveLoss,
    cosine distance with ``margin``), ``triplet`` (TripletLoss, ``margin``), ``mnrl``
    (MultipleNegativesRankingLoss: in-batch InfoNCE with ``scale``, optional hard
    negatives, NO_DUPLICATES batches), ``cached_mnrl`` (the gradient-cached form:
    large ``batch_size`` at the memory of ``mini_batch_size``).

    ``merge_alpha`` < 1 interpolates the trained weights with the base model's after
    training (WiSE-FT, ``train/merge.py``): ``(1 - a) * base + a * tuned``; the unmerged
    weights are kept in ``OUTPUT_DIR/unmerged``.

    ``title_abstract_pairs`` > 0 mixes that many (title, abstract) positive pairs of
    ``train_split`` articles (a seeded sample of the texts file) into the graph pairs: the
    in-domain pairs the seed embeddings train on, for the title -> abstract and free-text
    retrieval tasks. Their negatives are random train texts (graph pairs keep their hard
    negatives).
    """

    train_file: str
    output_dir: str = "models/pubgraph-minilm"
    base_model: str = DEFAULT_BASE_MODEL
    texts_file: str | None = None
    eval_file: str | None = None
    pair_run_id: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    test_split: str = "test"
    strategies: tuple[str, ...] = ()
    max_train_pairs: int | None = None
    max_eval_pairs: int | None = MAX_EVAL_PAIRS
    loss: str = "mnrl"
    negative_target: float = 0.0
    margin: float | None = None
    scale: float = 20.0
    mini_batch_size: int = 32
    hard_negatives: bool = True
    max_seq_length: int = 256
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_steps: int = 100
    weight_decay: float = 0.01
    epochs: float = 1.0
    max_steps: int = -1
    seed: int = 42
    precision: str = "auto"
    device: str | None = None
    eval_steps: int | None = None
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int = 2
    final_eval: tuple[str, ...] = ("pairs", "eval_file")
    compare_base: bool = True
    shared_data: str | None = None
    fast: bool = False
    merge_alpha: float = 1.0
    title_abstract_pairs: int = 0

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise TrainingError("bad training config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (tuples as lists), fit for YAML/JSON."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)


NUMERIC_FIELDS = {
    "batch_size": int, "max_seq_length": int, "mini_batch_size": int, "warmup_steps": int,
    "max_steps": int, "seed": int, "logging_steps": int, "save_steps": int,
    "save_total_limit": int, "learning_rate": float, "epochs": float, "scale": float,
    "negative_target": float, "weight_decay": float, "merge_alpha": float,
    "title_abstract_pairs": int,
}


def _type_problems(cfg: TrainConfig) -> list[str]:
    out = []
    for key, kind in NUMERIC_FIELDS.items():
        value = getattr(cfg, key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind is int:
            ok = float(value).is_integer()
        if not ok:
            out.append(f"{key} must be {'an integer' if kind is int else 'a number'} "
                       f"(got {value!r})")
    return out


def _problems(cfg: TrainConfig) -> list[str]:
    out = _type_problems(cfg)
    if out:
        return out
    if not str(cfg.train_file).strip():
        out.append("train_file is required")
    if cfg.loss not in LOSSES:
        out.append(f"loss {cfg.loss!r} is not one of {', '.join(LOSSES)}")
    if cfg.precision not in PRECISIONS:
        out.append(f"precision {cfg.precision!r} is not one of {', '.join(PRECISIONS)}")
    for name in ("batch_size", "max_seq_length", "mini_batch_size", "logging_steps", "save_steps"):
        if getattr(cfg, name) < 1:
            out.append(f"{name} must be >= 1 (got {getattr(cfg, name)})")
    if cfg.learning_rate <= 0:
        out.append(f"learning_rate must be > 0 (got {cfg.learning_rate})")
    if cfg.epochs <= 0 and cfg.max_steps <= 0:
        out.append("epochs must be > 0 (or set max_steps)")
    if cfg.warmup_steps < 0:
        out.append("warmup_steps must be >= 0")
    if cfg.eval_steps is not None and cfg.eval_steps < 1:
        out.append("eval_steps must be >= 1 or null")
    if cfg.save_total_limit < 1:
        out.append("save_total_limit must be >= 1")
    for name in ("max_train_pairs", "max_eval_pairs"):
        if getattr(cfg, name) is not None and getattr(cfg, name) < 1:
            out.append(f"{name} must be >= 1 or null")
    if cfg.title_abstract_pairs < 0:
        out.append(f"title_abstract_pairs must be >= 0 (got {cfg.title_abstract_pairs})")
    if not -1.0 <= cfg.negative_target <= 1.0:
        out.append("negative_target is a cosine and must lie in [-1, 1]")
    if not 0.0 <= cfg.merge_alpha <= 1.0:
        out.append(f"merge_alpha must lie in [0, 1] (1 = no merge; got {cfg.merge_alpha})")
    for task in cfg.final_eval:
        if task not in EVAL_TASKS and not task.startswith("csv:"):
            known = ", ".join(EVAL_TASKS)
            out.append(f"final_eval task {task!r} is not one of {known} or csv:PATH")
    return out


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def config_from_dict(data: dict[str, Any], *, source: str = "config") -> TrainConfig:
    """Build a TrainConfig from a mapping; unknown keys and bad types raise TrainingError."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise TrainingError(
            f"{source}: unknown training config key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(FIELDS))})"
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("strategies", "final_eval"):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if value is None:
                value = []
            if not isinstance(value, list | tuple):
                raise TrainingError(f"{source}: {key} must be a list")
            value = tuple(str(v) for v in value)
        values[key] = value
    if "train_file" not in values:
        raise TrainingError(f"{source}: train_file is required")
    try:
        cfg = TrainConfig(**values)
    except TypeError as exc:
        raise TrainingError(f"{source}: {exc}") from None
    return cfg


def load_config(
    path: str | Path | None = None, *, default_base_model: str = DEFAULT_BASE_MODEL,
    env_base_model: str | None = None, **overrides: Any,
) -> TrainConfig:
    """Read a YAML training config, apply non-None ``overrides``, and validate.

    Without a file, ``overrides`` alone must name ``train_file``. ``base_model``: an
    override (the command line) wins, then ``env_base_model`` (``PUBGRAPH_BASE_MODEL``
    when it is set in the environment), then the file's value, then
    ``default_base_model`` (the settings' value: config file or default).
    """
    import yaml

    data: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        source = str(path)
        p = Path(path)
        if not p.is_file():
            raise TrainingError(f"training config {p} does not exist")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise TrainingError(f"{p}: not valid YAML ({exc})") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise TrainingError(f"{p}: a training config must be a mapping of keys to values")
        data.update(loaded)
    if env_base_model:
        data["base_model"] = env_base_model
    elif "base_model" not in data or data["base_model"] is None:
        data["base_model"] = default_base_model
    data.update({k: v for k, v in overrides.items() if v is not None})
    cfg = config_from_dict(data, source=source)
    return apply_fast(cfg) if cfg.fast else cfg


def apply_fast(cfg: TrainConfig) -> TrainConfig:
    """Fast mode: the tiny model (when the base is the default), a few short steps."""
    from pubgraph.train.models import MINILM_NAMES, TINY_MODEL_NAME

    base = TINY_MODEL_NAME if cfg.base_model in MINILM_NAMES else cfg.base_model
    return cfg.replace(
        fast=True,
        base_model=base,
        max_steps=FAST_MAX_STEPS if cfg.max_steps <= 0 else min(cfg.max_steps, FAST_MAX_STEPS),
        batch_size=min(cfg.batch_size, FAST_BATCH_SIZE),
        mini_batch_size=min(cfg.mini_batch_size, 2),
        max_seq_length=min(cfg.max_seq_length, FAST_MAX_SEQ_LENGTH),
        warmup_steps=0,
        logging_steps=1,
        eval_steps=3,
        save_steps=3,
        final_eval=tuple(t for t in cfg.final_eval if t in ("pairs", "eval_file")),
    )


def resolve_precision(precision: str, device: str) -> tuple[bool, bool]:
    """``(fp16, bf16)`` for the trainer: ``auto`` is bf16 on a GPU that has it, else fp16 on a
    GPU, else full precision (CPU)."""
    if precision == "fp16":
        return True, False
    if precision == "bf16":
        return False, True
    if precision == "fp32" or not device.startswith("cuda"):
        return False, False
    import torch

    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return False, True
    return True, False
