"""``pubgraph train`` and ``pubgraph eval``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from train.config import MAX_EVAL_PAIRS, MAX_EVAL_QUERIES

DEFAULT_BENCHMARKS = "biosses,pubmedqa"


def register(app: typer.Typer) -> None:
    """Add the ``train`` and ``eval`` commands and the ``gnn`` group to the root app."""
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.command("merge")(merge_command)
    from train.gnn_cli import register as register_gnn

    register_gnn(app)


def train_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML training config (see configs/).")
    ] = None,
    train_file: Annotated[
        Path | None, typer.Option(help="Pair file to train on (overrides the config).")
    ] = None,
    output_dir: Annotated[Path | None, typer.Option(help="Where the model is written.")] = None,
    base_model: Annotated[
        str | None, typer.Option(help="Base model name or path (default PUBGRAPH_BASE_MODEL).")
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(help="cosine | contrastive | online_contrastive | triplet | mnrl | "
                          "cached_mnrl"),
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
) -> None:
    """Fine-tune a sentence-transformers model on pairs mined from the graph.

    Reads a pair file (pairing's pmid pairs plus a texts file, or an export with
    columns anchor, positive and optionally negative, or text1, text2, label), trains
    with the configured loss, evaluates against the base model, and writes a loadable
    model with its config, metrics, loss curve and model card. Several GPUs:
    torchrun --nproc_per_node N -m pubgraph train ... (see docs/training.md).
    """
    from train.config import load_config
    from train.trainer import train

    cfg = load_config(
        config, train_file=str(train_file) if train_file else None,
        output_dir=str(output_dir) if output_dir else None, base_model=base_model, loss=loss,
        epochs=epochs, max_steps=max_steps, max_seq_length=max_seq_length,
        fast=True if fast else None,
        final_eval=None if final_eval is None else ([] if final_eval == "none" else final_eval),
    )
    result = train(
        cfg, resume=str(checkpoint) if checkpoint else resume, overwrite=overwrite,
        progress=progress, log=typer.echo,
    )
    comparison = result.output_dir / "comparison.md"
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
    """
    from pubgraph.settings import get_settings
    from train.merge import merge_directory
    from train.trainer import read_meta

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
        typer.Option(help="Pairing output folder (or its pair file): pairs.parquet (test split), "
                          "citations_test.parquet, texts.parquet."),
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
) -> None:
    """Evaluate a model, optionally side by side with a base model.

    Tasks: held-out graph pairs, citation prediction and title->abstract retrieval
    (--pairs), BIOSSES and PubMedQA (--benchmarks), labelled CSVs (--csv).

    Writes comparison.md and comparison.json (with a delta column when --vs is given);
    for a model trained by pubgraph it also refreshes the model card's results table.
    """
    from rich.console import Console
    from rich.progress import Progress

    from pubgraph.errors import TrainingError
    from pubgraph.settings import shared_data_dir
    from train import evaluate, report
    from train.trainer import read_meta, write_results

    kinds = None if only is None else [t.strip() for t in only.split(",") if t.strip()]
    if kinds is not None:
        evaluate.select_tasks([], kinds)  # an unknown task name fails before any work
    shared = shared_data_dir(shared_data)
    tasks: list[evaluate.EvalTask] = []
    if pairs is not None:
        found = evaluate.tasks_from_pairs_dir(
            pairs, seed=seed, max_pairs=max_pairs or None, max_queries=max_queries or None
        )
        if not found:
            raise TrainingError(f"{pairs}: no pairs.parquet, citations_test.parquet or texts "
                                "file to evaluate on")
        tasks += found
    wanted = [b.strip() for b in benchmarks.split(",") if b.strip() and b.strip() != "none"]
    for name in wanted:
        if name == "biosses":
            tasks.append(evaluate.biosses_task(shared / "benchmarks" / "biosses"))
        elif name == "pubmedqa":
            tasks.append(evaluate.pubmedqa_task(
                shared / "benchmarks" / "pubmedqa" / "ori_pqal.json", limit=pubmedqa_limit))
        else:
            raise TrainingError(f"unknown benchmark {name!r} (choose from biosses, pubmedqa)")
    for path in csv or []:
        tasks.append(evaluate.csv_task(path))
    if kinds is not None:
        tasks = evaluate.select_tasks(tasks, kinds)
    if not tasks:
        raise TrainingError("nothing to evaluate: give --pairs, --csv or --benchmarks")

    from train.models import load_model

    console = Console()
    models = [("model", model)] + ([("base", vs)] if vs else [])
    results: dict[str, dict[str, dict[str, float]]] = {}
    reused = evaluate.reusable_results(base_results, tasks) if base_results and vs else {}
    if reused:
        console.print(f"base results reused from {base_results}: {', '.join(reused)}")
    with Progress(console=console, transient=True) as bar:
        job = bar.add_task("evaluating", total=len(tasks) * len(models))
        for role, name in models:
            todo = [t for t in tasks if not (role == "base" and t.name in reused)]
            results[role] = dict(reused) if role == "base" else {}
            bar.advance(job, len(tasks) - len(todo))
            if not todo:
                continue
            st = load_model(name, max_seq_length=max_seq_length)
            for task in todo:
                bar.update(job, description=f"{role}: {task.name}")
                results[role].update(evaluate.run_tasks(
                    st, [task], log=lambda m, r=role: console.print(f"{r} {m}", highlight=False)))
                bar.advance(job)

    meta = read_meta(model)
    model_dir = Path(model)
    target = out or (model_dir / "eval" if meta else Path("runs") / "eval" / model_dir.name)
    target.mkdir(parents=True, exist_ok=True)
    tuned_name = model_dir.name
    base_label = report.display_name(vs) if vs else None
    rows = report.comparison_rows(results.get("base"), results["model"])
    md = report.comparison_markdown(rows, base_label, tuned_name, {t.name: t.size for t in tasks})
    data = report.comparison_json(rows, base_label, tuned_name, results.get("base"),
                                  results["model"])
    data["tasks"] = {t.name: t.description for t in tasks}
    if meta is not None:
        # A pubgraph-trained model: refresh its card and metrics.json with this comparison
        # (with --tasks, the results of the other tasks stay).
        import time

        note = (f"Inputs truncated to {max_seq_length} tokens for every model."
                if max_seq_length else None)
        meta = {**meta, "evaluated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        stored = write_results(model_dir, meta, tasks, results.get("base"), results["model"],
                               base_name=vs, tuned_name=tuned_name, notes=note,
                               keep_other_tasks=kinds is not None)
        if kinds is None:
            data = stored
    (target / "comparison.md").write_text(md, encoding="utf-8")
    report.write_json(target / "comparison.json", data)
    typer.echo(md)
    typer.echo(f"written {target / 'comparison.md'} and comparison.json")
