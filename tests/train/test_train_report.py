"""Comparison tables, loss-curve rows and the model card."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from pubgraph.train import report

BASE = {"biosses": {"spearman": 0.81, "pearson": 0.84, "n": 100.0, "seconds": 3.0}}
TUNED = {"biosses": {"spearman": 0.73, "pearson": 0.80, "n": 100.0, "seconds": 3.1},
         "csv:val": {"auc": 0.9, "n": 10.0}}


def test_comparison_rows_and_delta() -> None:
    rows = report.comparison_rows(BASE, TUNED)
    keyed = {(r.task, r.metric): r for r in rows}
    assert set(keyed) == {("biosses", "spearman"), ("biosses", "pearson"), ("csv:val", "auc")}
    assert keyed[("biosses", "spearman")].delta == pytest.approx(-0.08)
    assert keyed[("csv:val", "auc")].base is None
    assert keyed[("csv:val", "auc")].delta is None


def test_comparison_markdown_has_delta_column() -> None:
    rows = report.comparison_rows(BASE, TUNED)
    md = report.comparison_markdown(rows, "MiniLM", "tuned", {"biosses": 100})
    lines = md.strip().splitlines()
    assert lines[0] == "| task | metric | MiniLM | tuned | Δ |"
    assert "| biosses (n=100) | spearman | 0.8100 | 0.7300 | -0.0800 |" in lines
    assert "| csv:val | auc | – | 0.9000 | – |" in lines
    single = report.comparison_markdown(rows, None, "tuned")
    assert single.splitlines()[0] == "| task | metric | tuned |"


def test_comparison_json_and_nan_as_null(tmp_path: Path) -> None:
    rows = report.comparison_rows(BASE, {"biosses": {"spearman": math.nan}})
    data = report.comparison_json(rows, "b", "t", BASE, {"biosses": {"spearman": math.nan}})
    path = report.write_json(tmp_path / "c.json", data)
    loaded = json.loads(path.read_text())
    row = next(r for r in loaded["rows"] if r["metric"] == "spearman")
    assert row == {"task": "biosses", "metric": "spearman", "base": 0.81, "model": None,
                   "delta": None}


HISTORY = [
    {"loss": 0.9, "grad_norm": 1.0, "learning_rate": 1e-5, "epoch": 0.1, "step": 1},
    {"loss": 0.5, "epoch": 0.5, "step": 5},
    {"eval_loss": 0.6, "eval_val_cosine_ap": 0.7, "epoch": 0.5, "step": 5},
    {"train_runtime": 3.0, "train_loss": 0.7, "epoch": 1.0, "step": 10},
]


def test_loss_rows_merge_train_and_eval_by_step() -> None:
    rows = report.loss_rows(HISTORY)
    assert [r["step"] for r in rows] == [1, 5, 10]
    assert rows[1] == {"step": 5, "epoch": 0.5, "loss": 0.5, "eval_loss": 0.6,
                       "eval_val_cosine_ap": 0.7}
    assert "loss" not in rows[2]  # the summary entry has train_loss, not a step loss


def test_write_loss_curve(tmp_path: Path) -> None:
    csv_path, png_path = report.write_loss_curve(tmp_path, HISTORY)
    with csv_path.open() as fh:
        got = list(csv.DictReader(fh))
    assert [r["loss"] for r in got] == ["0.9", "0.5", ""]
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_card_names_data_and_results() -> None:
    meta = {"output_dir": "runs/x", "config": {"base_model": "mini", "loss": "mnrl",
            "train_file": "pairs.parquet"}, "pair_run_id": "run-7", "train_examples": 12}
    card = report.model_card(meta, "| t | m |\n")
    assert card.startswith("---\n") and "\nlibrary_name: sentence-transformers\n" in card
    assert "base_model: mini" in card
    assert "| PairRun id | run-7 |" in card
    assert "## Results" in card and "| t | m |" in card
