"""``pubgraph train`` and ``pubgraph eval``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pubgraph.train.config import LOSSES, MAX_EVAL_PAIRS, MAX_EVAL_QUERIES

Loss = StrEnum("Loss", {name: name for name in LOSSES})  # type: ignore[misc]

DEFAULT_BENCHMARKS = "biosses,pubmedqa"


def register(app: typer.Typer) -> None:
    """Add the ``train`` and ``eval`` commands and the ``gnn`` group to the root app."""
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.command("merge")(merge_command)
    from pubgraph.train.gnn_cli import register as register_gnn

    register_gnn(app)


def train_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML training config (see configs/).")
    ] = None,
    pairs: Annotated[
        str | None,
        typer.Option("--pairs", help="Pairing run to train on: its folder (`pubgraph pairs run "
                     "--out DIR`) or run id; sets train_file to RUN/pairs.parquet."),
    ] = None,
    train_file: Annotated[
        Path | None, typer.Option(help="Pair file to train on (overrides the config).")
    ] = None,
    output_dir: Annotated[Path | None, typer.Option(help="Where the model is written.")] = None,
    base_model: Annotated[
        str | None, typer.Option(help="Base model name or path (default PUBGRAPH_BASE_MODEL).")
    ] = None,
    loss: Annotated[
        Loss | None, typer.Option(help="Training loss (default: the config's, mnrl).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of sampling, shuffling and initialisation "
                                      "(default: the config's, 42).")
    ] = None,
    epochs: Annotated[float | None, typer.Option(help="Training epochs.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None,
    max_seq_length: Annotated[
        int | None, typer.Option(help="Truncate training inputs to this many tokens.")
    ] = None,
    final_eval: Annotated[
        str | None,
        typer.Option(help="Comma list of final evaluation tasks (pairs, eval_file, biosses, "
                          "pubmedqa, csv:PATH), or 'none'; overrides the config."),
    ] = None,
    fast: Annotated[
        bool, typer.Option("--fast", help="Tiny model, a few short steps: a smoke run in seconds.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in output_dir.")
    ] = False,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Resume from this checkpoint directory instead.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a model already in output_dir.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the trainer's progress bar.")] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result (paths, steps, metrics) as JSON.")
    ] = False,
) -> None:
    """Fine-tune a sentence-transformers model on pairs mined from the graph.

    Reads a pair file (pairing's pmid pairs plus a texts file, or an export with
    columns anchor, positive and optionally negative, or text1, text2, label), trains
    with the configured loss, evaluates against the base model, and writes a loadable
    model with its config, metrics, loss curve and model card. Several GPUs:
    torchrun --nproc_per_node N -m pubgraph train ... (see docs/training.md).

    Values: option > environment (PUBGRAPH_BASE_MODEL, PUBGRAPH_DEVICE) > --config > default.

    Example: pubgraph train --config configs/train.yaml --pairs runs/pairs --seed 13
    """
    from pubgraph.core.contracts import PAIRS_FILE, resolve_pair_run
    from pubgraph.core.errors import TrainingError
    from pubgraph.core.models import check_device
    from pubgraph.core.settings import get_settings
    from pubgraph.train.config import load_config
    from pubgraph.train.trainer import train

    settings = get_settings()
    check_device(settings.device)
    if pairs is not None and train_file is not None:
        raise typer.BadParameter("give --pairs or --train-file, not both", param_hint="--pairs")
    if pairs is not None:
        train_file = resolve_pair_run(pairs, settings.data_dir / "pairs") / PAIRS_FILE
    env_base = settings.base_model if settings.source_of("base_model") == "environment" else None
    cfg = load_config(
        config, default_base_model=settings.base_model, env_base_model=env_base,
        train_file=str(train_file) if train_file else None,
        output_dir=str(output_dir) if output_dir else None, base_model=base_model,
        loss=loss.value if loss is not None else None, seed=seed,
        epochs=epochs, max_steps=max_steps, max_seq_length=max_seq_length,
        fast=True if fast else None,
        final_eval=None if final_eval is None else ([] if final_eval == "none" else final_eval),
    )
    if not Path(cfg.train_file).exists():
        raise TrainingError(
            f"training pair file {cfg.train_file} does not exist: mine pairs first "
            "(`pubgraph pairs run --out runs/pairs`) and name the run with --pairs RUN, or "
            "set train_file / --train-file"
        )
    import contextlib
    import sys

    # With --json, stdout carries the JSON alone: the trainer's own prints go to stderr.
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        result = train(
            cfg, resume=str(checkpoint) if checkpoint else resume, overwrite=overwrite,
            progress=progress and not as_json, log=(lambda _m: None) if as_json else typer.echo,
            default_device_name=settings.device,
        )
    comparison = result.output_dir / "comparison.md"
    if as_json:
        summary = {
            "output_dir": str(result.output_dir), "base_model": cfg.base_model,
            "train_examples": result.train_examples, "global_step": result.global_step,
            "train_seconds": round(result.train_seconds, 3), "seed": cfg.seed,
        }
        metrics = result.output_dir / "comparison.json"
        if metrics.is_file():
            summary["comparison"] = json.loads(metrics.read_text(encoding="utf-8"))
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    typer.echo(f"trained {result.train_examples} examples, {result.global_step} steps in "
               f"{result.train_seconds:.0f}s -> {result.output_dir}")
    if comparison.is_file():
        typer.echo(comparison.read_text(encoding="utf-8"))


def merge_command(
    model: Annotated[str, typer.Argument(help="Fine-tuned model directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the merged model.")],
    alpha: Annotated[
        float, typer.Option(min=0.0, max=1.0,
                            help="Weight of the fine-tuned model (1 = unchanged, 0 = the base).")
    ] = 0.5,
    base: Annotated[
        str | None,
        typer.Option(help="Base model (default: the base MODEL was trained from, else "
                          "PUBGRAPH_BASE_MODEL)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace what --out holds.")
    ] = False,
) -> None:
    """Interpolate a fine-tuned model's weights with its base model (WiSE-FT).

    Writes (1 - alpha) * base + alpha * fine-tuned as a new SentenceTransformer directory;
    evaluate it with `pubgraph eval OUT --vs BASE`. Keeps most of the fine-tuning gain
    while giving back general similarity (BIOSSES) that fine-tuning costs.

    Example: pubgraph merge runs/train/pubgraph-minilm --alpha 0.7 --out runs/train/wise70
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.train.merge import merge_directory
    from pubgraph.train.trainer import read_meta

    meta = read_meta(model) or {}
    base_model = base or meta.get("resolved_base_model") or get_settings().base_model
    written = merge_directory(model, str(base_model), alpha, out, overwrite=overwrite)
    typer.echo(f"merged {model} (alpha {alpha}) with {base_model} -> {written}")


def eval_command(
    model: Annotated[str, typer.Argument(help="Model directory or name to evaluate.")],
    vs: Annotated[
        str | None, typer.Option("--vs", help="Base model to compare with, side by side.")
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(help="Pairing run (folder, pair file or run id): pairs.parquet (test "
                          "split), citations_test.parquet, texts.parquet."),
    ] = None,
    csv: Annotated[
        list[Path] | None, typer.Option("--csv", help="A text1,text2,label file (repeatable).")
    ] = None,
    benchmarks: Annotated[
        str, typer.Option(help="Comma list of biosses, pubmedqa; 'none' for neither.")
    ] = DEFAULT_BENCHMARKS,
    out: Annotated[
        Path | None,
        typer.Option(help="Where comparison.md/.json go (default MODEL/eval for a trained "
                          "model, else runs/eval/NAME)."),
    ] = None,
    shared_data: Annotated[
        Path | None, typer.Option(help="Shared data folder (default ../shared/data).")
    ] = None,
    pubmedqa_limit: Annotated[
        int | None, typer.Option(help="Use only the first N PubMedQA questions.")
    ] = None,
    max_seq_length: Annotated[
        int | None, typer.Option(help="Truncate inputs to this many tokens.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the citation candidates and subsamples.")] = 42,
    max_pairs: Annotated[
        int, typer.Option(min=0, help="Held-out pairs to score at most (seeded sample; 0 = all).")
    ] = MAX_EVAL_PAIRS,
    max_queries: Annotated[
        int, typer.Option(min=0, help="Citation and title->abstract queries at most (0 = all).")
    ] = MAX_EVAL_QUERIES,
    base_results: Annotated[
        Path | None,
        typer.Option(help="metrics.json/comparison.json of an earlier run with the same --vs "
                          "model: its base results are reused for identical tasks."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option("--tasks", help="Run only these tasks (comma list of pairs, citations, "
                                     "title_abstract, biosses, pubmedqa, csv); a trained "
                                     "model's card keeps its other results."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print comparison.json instead of the table.")
    ] = False,
) -> None:
    """Evaluate a model, optionally side by side with a base model.

    Tasks: held-out graph pairs, citation prediction and title->abstract retrieval
    (--pairs), BIOSSES and PubMedQA (--benchmarks), labelled CSVs (--csv).

    Writes comparison.md and comparison.json (with a delta column when --vs is given);
    for a model trained by pubgraph it also refreshes the model card's results table.
    Benchmarks whose data are missing are skipped with one line each.

    Example: pubgraph eval runs/train/pubgraph-minilm --vs all-MiniLM-L6-v2 --pairs runs/pairs
    """
    from rich.console import Console
    from rich.progress import Progress

    from pubgraph.core.contracts import resolve_pair_run
    from pubgraph.core.settings import get_settings, shared_data_dir
    from pubgraph.train import evaluate

    if pairs is not None and not pairs.exists():
        pairs = resolve_pair_run(str(pairs), get_settings().data_dir / "pairs")
    req = evaluate.EvalRequest(
        model=model, vs=vs, pairs=pairs, csv=tuple(csv or ()),
        benchmarks=tuple(b.strip() for b in benchmarks.split(",")
                         if b.strip() and b.strip() != "none"),
        shared_data=shared_data_dir(shared_data), out=out, pubmedqa_limit=pubmedqa_limit,
        max_seq_length=max_seq_length, seed=seed, max_pairs=max_pairs or None,
        max_queries=max_queries or None, base_results=base_results,
        only=None if only is None else tuple(t.strip() for t in only.split(",") if t.strip()),
    )
    console = Console(stderr=as_json)
    with Progress(console=console, transient=True, disable=as_json) as bar:
        job = bar.add_task("evaluating", total=None)

        def progress(description: str, done: int, total: int) -> None:
            bar.update(job, description=description, completed=done, total=total)

        outcome = evaluate.evaluate_models(
            req, log=lambda m: console.print(m, highlight=False), on_progress=progress
        )
    if as_json:
        typer.echo((outcome.out_dir / "comparison.json").read_text(encoding="utf-8"))
        return
    typer.echo(outcome.markdown)
    typer.echo(f"written {outcome.out_dir / 'comparison.md'} and comparison.json")
