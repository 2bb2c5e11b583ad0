"""Runs: pair runs (``PairRun`` nodes), trained models with their evaluation tables (from
their run folders: ``pubgraph_train.json`` + ``metrics.json``), and analysis runs with their
metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
from dash import dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import DashboardContext, NeedsCommand, current
from pubgraph.dashboard.helpers import find_models

dash.register_page(__name__, path="/runs", title="Runs · pubgraph", name="Runs", order=4)  # type: ignore[no-untyped-call]

def _num(v: Any, digits: int = 4) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _models(ctx: DashboardContext) -> list[Any]:
    from pubgraph.train.trainer import METRICS_FILE, read_meta

    cards: list[Any] = []
    for model_dir in ctx.cached("models", lambda: find_models(ctx.runs_dirs), 15.0):
        meta = read_meta(model_dir) or {}
        metrics_path = model_dir / METRICS_FILE
        rows: list[Any] = []
        base_name = model_name = None
        if metrics_path.is_file():
            try:
                m = json.loads(metrics_path.read_text(encoding="utf-8"))
            except ValueError:
                m = {}
            base_name, model_name = m.get("base"), m.get("model")
            for r in m.get("rows", []):
                delta = r.get("delta")
                rows.append([r.get("task"), r.get("metric"), _num(r.get("base")),
                             _num(r.get("model")),
                             html.Span(f"{delta:+.4f}", className="pg-pos" if delta > 0 else
                                       "pg-neg") if isinstance(delta, float) else "–"])
        facts = c.meta_line(
            meta.get("created"), f"pair run {meta.get('pair_run_id') or '–'}",
            f"{_num(meta.get('train_examples'))} training examples",
            f"{_num(meta.get('global_step'))} steps",
            f"{_num(meta.get('train_seconds'), 0)} s" if meta.get("train_seconds") else None,
        )
        cards.append(html.Div(
            [
                html.H4(model_dir.name),
                html.Div(str(model_dir), className="pg-path"),
                facts,
                c.table(["task", "metric", Path(str(base_name)).name if base_name else "base",
                         Path(str(model_name)).name if model_name else "model", "Δ"], rows)
                if rows else html.P(f"No {METRICS_FILE} yet: run `pubgraph eval`.",
                                    className="pg-muted"),
            ],
            className="pg-card pg-model",
        ))
    if not cards:
        where = ", ".join(str(p) for p in ctx.runs_dirs) or "(no folder given)"
        return [c.notice("No trained models", f"No pubgraph_train.json under {where}.",
                         "pubgraph train --config configs/train.yaml")]
    return cards


def _pair_runs(ctx: DashboardContext) -> Any:
    from pubgraph.pairing.jobs import list_runs

    runs = list_runs(ctx.db())
    if not runs:
        return c.notice("No pair runs", "No training pairs were mined from this graph yet.",
                        "pubgraph pairs run")
    rows = []
    for r in runs:
        counts = r.get("counts") or {}
        summary = ", ".join(f"{k} {_num(v)}" for k, v in list(counts.items())[:6]) \
            if isinstance(counts, dict) else str(counts)
        rows.append([html.Code(str(r["id"])[:16]), r.get("strategy"), r.get("seed"),
                     str(r.get("created") or "")[:19], summary,
                     _num(r.get("duration"), 1)])
    return c.table(["id", "strategy", "seed", "created", "counts", "seconds"], rows,
                   className="pg-table-runs")


def _frame_rows(obj: Any) -> tuple[list[str], list[list[Any]]]:
    if hasattr(obj, "to_dict") and hasattr(obj, "columns"):
        records = obj.to_dict("records")
        columns = [str(col) for col in obj.columns]
    else:
        records = [dict(r) if not isinstance(r, dict) else r for r in (obj or [])]
        columns = list(dict.fromkeys(k for r in records for k in r))
    rows = [[_cell(r.get(col)) for col in columns] for r in records]
    return columns, rows


def _cell(v: Any) -> Any:
    if isinstance(v, dict):
        return html.Code(json.dumps(v, default=str)[:160])
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))[:160]
    return _num(v, 3)


def _analysis_runs(ctx: DashboardContext) -> Any:
    try:
        runs = data.analysis_runs(ctx)
    except NeedsCommand as exc:
        return c.notice(exc.title, str(exc), exc.command)
    columns, rows = _frame_rows(runs)
    if not rows:
        return c.notice("No analysis runs", "Topics, trends and the map come from one.",
                        data.ANALYSIS_COMMAND)
    return c.table(columns, rows, className="pg-table-runs")


@c.guard
def layout(**_: Any) -> Any:
    ctx = current()
    ctx.db()
    return c.page(
        "Runs",
        html.H3("Pair runs"),
        html.Div(c.guard(_pair_runs)(ctx), className="pg-card", id="runs-pairs"),
        html.H3("Trained models"),
        html.Div(c.guard(_models)(ctx), id="runs-models"),
        html.H3("Analysis runs"),
        html.Div(c.guard(_analysis_runs)(ctx), className="pg-card", id="runs-analysis"),
        dcc.Markdown("Pair runs and analysis runs are read from the graph; trained models "
                     "from the run folders given with `--runs-dir`.", className="pg-muted"),
        page_id="runs-page",
    )
