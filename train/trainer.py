"""``pubgraph train``: fine-tune a sentence-transformers model on pair files.

Written as the numbered steps of a sentence-transformers v3+ training script:
1 model -> 2 data -> 3 loss -> 4 evaluator -> 5 arguments -> 6 trainer -> 7 save
(7b: optionally interpolated with the base, WiSE-FT) (+ the final evaluation against the
base model, the model card and the loss curve).

The output directory loads with ``SentenceTransformer(path)`` and also holds
``train_config.yaml`` (the resolved config), ``pubgraph_train.json`` (pair file, PairRun
id, sizes, timings), ``metrics.json`` (final evaluation, base vs fine-tuned),
``comparison.md``, ``loss_curve.csv``/``.png``, ``README.md`` (model card),
``checkpoints/`` (resumable with ``--resume``) and, when ``merge_alpha`` < 1, ``unmerged/``
(the fine-tuned weights before the merge).
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pubgraph.core.errors import TrainingError
from pubgraph.train.config import TrainConfig, resolve_precision
from pubgraph.train.data import (
    PairTable,
    add_title_abstract,
    find_texts_file,
    load_pairs,
    split_names,
)

META_FILE = "pubgraph_train.json"
CONFIG_FILE = "train_config.yaml"
METRICS_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    output_dir: Path
    train_examples: int
    global_step: int
    train_seconds: float
    metrics: dict[str, Any]


@dataclass(frozen=True)
class TrainData:
    """The tables one run uses (step 2)."""

    train: PairTable
    eval: PairTable | None
    test: PairTable | None


def load_train_data(cfg: TrainConfig) -> TrainData:
    """Train rows, evaluation rows (``eval_file`` or the eval split), held-out test rows."""
    splits = split_names(cfg.train_file)
    common: dict[str, Any] = {
        "texts_file": cfg.texts_file, "strategies": cfg.strategies, "seed": cfg.seed
    }
    train = load_pairs(cfg.train_file, split=cfg.train_split, limit=cfg.max_train_pairs, **common)
    if len(train) == 0:
        raise TrainingError(f"{cfg.train_file}: no training pairs with texts")
    if cfg.title_abstract_pairs:
        tfile = cfg.texts_file or find_texts_file(cfg.train_file)
        if tfile is None:
            raise TrainingError(
                f"title_abstract_pairs: {cfg.train_file} has no texts file beside it; set "
                "texts_file (pmid, title, abstract)"
            )
        train = add_title_abstract(train, tfile, cfg.title_abstract_pairs,
                                   split=cfg.train_split, seed=cfg.seed)
    if cfg.eval_file:
        ev: PairTable | None = load_pairs(cfg.eval_file, split=cfg.eval_split,
                                          texts_file=cfg.texts_file, require_split=False,
                                          limit=cfg.max_eval_pairs, seed=cfg.seed)
    elif _eval_split(cfg.eval_split, splits):
        ev = load_pairs(cfg.train_file, split=_eval_split(cfg.eval_split, splits),
                        limit=cfg.max_eval_pairs, **common)
    else:
        ev = None
    test = (
        load_pairs(cfg.train_file, split=cfg.test_split, **common)
        if cfg.test_split in splits else None
    )
    return TrainData(train, ev if ev is not None and len(ev) else None,
                     test if test is not None and len(test) else None)


EVAL_SPLIT_ALIASES = ("validation", "val", "dev")


def _eval_split(wanted: str, splits: list[str]) -> str | None:
    """``wanted`` if the file has it, else another name for a validation split it has."""
    if wanted in splits:
        return wanted
    if wanted in EVAL_SPLIT_ALIASES:
        return next((s for s in EVAL_SPLIT_ALIASES if s in splits), None)
    return None


def build_evaluator(table: PairTable | None, name: str = "val") -> Any:
    """Step 4: BinaryClassificationEvaluator for labelled pairs, TripletEvaluator for
    triplets, nothing for positives-only files (their eval loss is still logged)."""
    if table is None:
        return None
    from pubgraph.train.st import evaluation

    f = table.frame
    if table.kind == "labelled":
        return evaluation.BinaryClassificationEvaluator(
            list(f["text1"]), list(f["text2"]), [int(x) for x in f["label"]], name=name,
            write_csv=False,
        )
    if table.kind == "triplets":
        return evaluation.TripletEvaluator(
            list(f["anchor"]), list(f["positive"]), list(f["negative"]), name=name,
            write_csv=False,
        )
    return None


def final_tasks(
    cfg: TrainConfig, data: TrainData, log: Callable[[str], None] | None = None
) -> list[Any]:
    """The evaluation tasks ``cfg.final_eval`` names. Benchmarks whose data are missing (no
    shared data folder) are skipped with one line each through ``log``."""
    from pubgraph.core.settings import shared_data_dir
    from pubgraph.train import evaluate

    wanted = [b for b in cfg.final_eval if b in evaluate.BENCHMARK_NAMES]
    found, skipped = evaluate.benchmark_tasks(
        wanted, shared_data_dir(cfg.shared_data) if wanted else None
    )
    for name, reason in skipped.items():
        (log or print)(f"skipped {name}: {reason}")
    benchmarks = {t.name: t for t in found}
    tasks = []
    for spec in cfg.final_eval:
        if spec == "pairs" and data.test is not None and data.test.kind == "labelled":
            tasks.append(evaluate.labelled_pairs_task(
                f"pairs:{cfg.test_split}", data.test,
                f"{len(data.test)} held-out {cfg.test_split}-split pairs"))
        elif spec == "eval_file" and cfg.eval_file and data.eval is not None:
            if data.eval.kind == "labelled":
                tasks.append(evaluate.labelled_pairs_task(
                    f"csv:{Path(cfg.eval_file).stem}", data.eval))
        elif spec in benchmarks:
            tasks.append(benchmarks[spec])
        elif spec.startswith("csv:"):
            tasks.append(evaluate.csv_task(spec[4:]))
    return tasks


def _prepare_output(out: Path, resume: bool | str, overwrite: bool) -> None:
    if (out / META_FILE).exists() and not resume and not overwrite:
        raise TrainingError(
            f"{out} already holds a trained model: pass --resume to continue from its last "
            "checkpoint, --overwrite to replace it, or choose another output_dir"
        )
    out.mkdir(parents=True, exist_ok=True)


def _resume_arg(out: Path, resume: bool | str) -> str | None:
    if not resume:
        return None
    if isinstance(resume, str) and resume not in ("true", "True", "1", "last"):
        if not Path(resume).is_dir():
            raise TrainingError(f"checkpoint {resume} does not exist")
        return resume
    from transformers.trainer_utils import get_last_checkpoint

    ckpt_dir = out / CHECKPOINT_DIR
    last = (
        get_last_checkpoint(str(ckpt_dir))  # type: ignore[no-untyped-call]
        if ckpt_dir.is_dir() else None
    )
    if last is None:
        raise TrainingError(f"--resume: no checkpoint in {ckpt_dir}")
    return str(last)


def train(
    cfg: TrainConfig,
    *,
    resume: bool | str = False,
    overwrite: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    default_device_name: str | None = None,
) -> TrainResult:
    """Fine-tune ``cfg.base_model`` on ``cfg.train_file`` and write the output directory.

    ``default_device_name`` (the CLI passes ``Settings.device``) applies when the config
    names no device; neither means auto."""
    import yaml

    from pubgraph.train import evaluate, report
    from pubgraph.train.losses import batch_sampler, build_loss
    from pubgraph.train.models import TINY_MODEL_NAME, build_tiny_model, default_device, load_model
    from pubgraph.train.st import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    out = Path(cfg.output_dir)
    _prepare_output(out, resume, overwrite)
    resume_from = _resume_arg(out, resume)
    device = default_device(
        cfg.device or default_device_name,
        "device in the training config" if cfg.device else "PUBGRAPH_DEVICE",
    )

    # 2 (read first: fast mode's tiny model takes its vocabulary from the training texts).
    data = load_train_data(cfg)

    # 1. Model: the base model (resolved to a local path when possible) on the device.
    base_model = cfg.base_model
    if base_model == TINY_MODEL_NAME:
        base_model = str(build_tiny_model(out / "_tiny_base", data.train.texts(),
                                          max_seq_length=cfg.max_seq_length, seed=cfg.seed))
    model = load_model(base_model, device=device, max_seq_length=cfg.max_seq_length)
    log(f"model: {cfg.base_model} on {device}, max_seq_length {model.max_seq_length}")

    # 2. Data: the columns this loss expects.
    train_ds = _dataset(data.train, cfg)
    eval_ds = _dataset(data.eval, cfg, optional=True) if data.eval is not None else None
    log(f"data: {len(train_ds)} training examples ({', '.join(train_ds.column_names)}) "
        f"from {cfg.train_file}" + (f", {data.train.dropped} dropped (no text)"
                                    if data.train.dropped else ""))

    # 3. Loss.
    loss = build_loss(cfg, model)

    # 4. Evaluator on the evaluation pairs, run every eval_steps.
    evaluator = build_evaluator(data.eval)

    # 5. Training arguments.
    fp16, bf16 = resolve_precision(cfg.precision, device)
    has_eval = evaluator is not None or eval_ds is not None
    strategy = ("steps" if cfg.eval_steps else "epoch") if has_eval else "no"
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / CHECKPOINT_DIR),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        fp16=fp16,
        bf16=bf16,
        batch_sampler=batch_sampler(cfg),
        eval_strategy=strategy,
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        seed=cfg.seed,
        data_seed=cfg.seed,
        report_to="none",
        disable_tqdm=not progress,
        use_cpu=device == "cpu",
        run_name=out.name,
    )

    # 6. Trainer.
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds, loss=loss,
        evaluator=evaluator,
    )
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - start
    if not trainer.is_world_process_zero():
        # Under torchrun/accelerate only rank 0 saves and evaluates.
        return TrainResult(out, len(train_ds), int(trainer.state.global_step), seconds, {})

    # 7. Save the model, then everything that documents it.
    merge = None
    base: Any = None  # loaded once: for the merge and for the final comparison
    if cfg.merge_alpha < 1.0:
        # 7b. WiSE-FT: keep the trained weights, then interpolate them with the base.
        from pubgraph.train.merge import UNMERGED_DIR, merge_models, merge_record

        model.save(str(out / UNMERGED_DIR))
        base = load_model(base_model, device=device, max_seq_length=cfg.max_seq_length)
        merge_models(base, model, cfg.merge_alpha)
        merge = merge_record(cfg.base_model, cfg.merge_alpha, source=str(out / UNMERGED_DIR))
        log(f"merged with {cfg.base_model}: alpha {cfg.merge_alpha} (unmerged weights in "
            f"{out / UNMERGED_DIR})")
    model.save(str(out))
    history = list(trainer.state.log_history)
    report.write_loss_curve(out, history)
    (out / CONFIG_FILE).write_text(
        yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8"
    )
    meta: dict[str, Any] = {
        "output_dir": str(out),
        "config": cfg.to_dict(),
        "resolved_base_model": base_model,
        "train_file": str(cfg.train_file),
        "pair_run_id": cfg.pair_run_id or data.train.pair_run_id,
        "train_examples": len(train_ds),
        "train_columns": list(train_ds.column_names),
        "train_dropped": data.train.dropped,
        "eval_examples": len(data.eval) if data.eval is not None else 0,
        "test_examples": len(data.test) if data.test is not None else 0,
        "global_step": int(trainer.state.global_step),
        "train_seconds": round(seconds, 1),
        "resumed_from": resume_from,
        "device": device,
        "precision": "bf16" if bf16 else "fp16" if fp16 else "fp32",
        "versions": _versions(),
        "machine": _machine(device),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if merge is not None:
        meta["merge"] = merge
    report.write_json(out / META_FILE, meta)

    tasks = final_tasks(cfg, data, log)
    tuned = evaluate.run_tasks(model, tasks, log=log) if tasks else {}
    base_results = None
    if tasks and cfg.compare_base:
        if base is None:
            base = load_model(base_model, device=device, max_seq_length=cfg.max_seq_length)
        base_results = evaluate.run_tasks(base, tasks, log=lambda m: log("base " + m))
    metrics = write_results(out, meta, tasks, base_results, tuned, base_name=cfg.base_model)
    metrics["train"] = {k: v for k, v in history[-1].items()} if history else {}
    report.write_json(out / METRICS_FILE, metrics)
    log(f"saved {out} ({meta['global_step']} steps, {seconds:.0f}s)")
    return TrainResult(out, len(train_ds), meta["global_step"], seconds, metrics)


def write_results(
    out: Path,
    meta: dict[str, Any],
    tasks: list[Any],
    base_results: dict[str, dict[str, float]] | None,
    tuned: dict[str, dict[str, float]],
    *,
    base_name: str | None,
    tuned_name: str | None = None,
    notes: str | None = None,
    keep_other_tasks: bool = False,
) -> dict[str, Any]:
    """Write metrics.json, comparison.md and the README.md model card; return the metrics.

    ``keep_other_tasks``: results of tasks that this run did not repeat stay as they were in
    metrics.json (an evaluation of some tasks only)."""
    from pubgraph.train import report

    if keep_other_tasks:
        tasks, base_results, tuned = _with_previous(out, tasks, base_results, tuned)
    tuned_name = tuned_name or out.name
    base_name = report.display_name(base_name) if base_name else None
    rows = report.comparison_rows(base_results, tuned)
    sizes = {t.name: t.size for t in tasks}
    md = report.comparison_markdown(rows, base_name if base_results else None, tuned_name, sizes)
    data = report.comparison_json(rows, base_name if base_results else None, tuned_name,
                                  base_results, tuned)
    data["tasks"] = {t.name: t.description for t in tasks}
    previous = out / METRICS_FILE
    if previous.is_file():  # keep the training summary when an eval refreshes the metrics
        old = json.loads(previous.read_text(encoding="utf-8"))
        if isinstance(old, dict) and "train" in old:
            data["train"] = old["train"]
    if notes:
        data["notes"] = notes
    if rows:
        (out / "comparison.md").write_text(md, encoding="utf-8")
    report.write_json(out / METRICS_FILE, data)
    _write_card(out, meta, md if rows else None, data["tasks"], notes, tuned)
    return data


@dataclass(frozen=True)
class _StoredTask:
    """A task known only from metrics.json (name, description, size)."""

    name: str
    description: str
    size: int


def _with_previous(
    out: Path,
    tasks: list[Any],
    base_results: dict[str, dict[str, float]] | None,
    tuned: dict[str, dict[str, float]],
) -> tuple[list[Any], dict[str, dict[str, float]] | None, dict[str, dict[str, float]]]:
    previous = out / METRICS_FILE
    if not previous.is_file():
        return tasks, base_results, tuned
    old = json.loads(previous.read_text(encoding="utf-8"))
    old_results = old.get("results", {}) if isinstance(old, dict) else {}
    old_model, old_base = old_results.get("model") or {}, old_results.get("base") or {}
    ran = {t.name: t for t in tasks}
    order = list(dict.fromkeys([*old_model, *ran]))  # the card keeps its row order
    described = old.get("tasks", {})
    merged_tasks = [ran.get(n) or _StoredTask(n, described.get(n, ""),
                                              int(old_model[n].get("n", 0))) for n in order]

    def merged(new: dict[str, dict[str, float]], stored: dict[str, Any]) -> dict[str, Any]:
        source = {n: (new if n in ran else stored) for n in order}
        return {n: source[n][n] for n in order if n in source[n]}

    merged_base = merged(base_results, old_base) if base_results is not None else None
    return merged_tasks, merged_base, merged(tuned, old_model)


def _write_card(
    out: Path, meta: dict[str, Any], md: str | None, tasks: dict[str, str], notes: str | None,
    results: dict[str, dict[str, float]] | None = None,
) -> None:
    from pubgraph.train import report

    described = "\n".join(f"- `{name}`: {desc}" for name, desc in tasks.items())
    measured = (f"Measured {meta.get('evaluated') or meta.get('created', '')} on "
                f"{meta.get('machine', meta.get('device', '?'))}.")
    text = "\n\n".join(n for n in (described, measured, notes) if n)
    card = report.model_card({**meta, "eval_notes": text}, md, results)
    (out / "README.md").write_text(card, encoding="utf-8")


def refresh_card(model_dir: str | Path) -> Path:
    """Re-render README.md of a trained model from its pubgraph_train.json and metrics.json
    (no model is loaded: the figures are the stored ones)."""
    from pubgraph.train import report

    out = Path(model_dir)
    meta = read_meta(out)
    if meta is None:
        raise TrainingError(f"{out} is not a model trained by pubgraph (no {META_FILE})")
    data = json.loads((out / METRICS_FILE).read_text(encoding="utf-8"))
    results = data.get("results", {})
    rows = report.comparison_rows(results.get("base"), results.get("model") or {})
    sizes = {task: int(r.get("n", 0)) for task, r in (results.get("model") or {}).items()}
    md = report.comparison_markdown(rows, data.get("base"), data.get("model") or out.name, sizes)
    _write_card(out, meta, md if rows else None, data.get("tasks", {}), data.get("notes"),
                results.get("model"))
    return out / "README.md"


def _dataset(table: PairTable | None, cfg: TrainConfig, optional: bool = False) -> Any:
    from pubgraph.train.data import build_dataset

    if table is None:
        return None
    try:
        return build_dataset(table, cfg.loss, negative_target=cfg.negative_target,
                             hard_negatives=cfg.hard_negatives, seed=cfg.seed)
    except TrainingError:
        if optional:
            return None
        raise


def _machine(device: str) -> str:
    import os

    cores = os.cpu_count() or 0
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = ""
    return f"{device}, {cores} cores{memory}, Python {platform.python_version()}"


def _versions() -> dict[str, str]:
    import sentence_transformers
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }


def read_meta(model_dir: str | Path) -> dict[str, Any] | None:
    """``pubgraph_train.json`` of a trained model directory, or None."""
    p = Path(model_dir) / META_FILE
    if not p.is_file():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None
