"""``pubgraph train --fast`` and ``pubgraph eval`` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pubgraph.cli import app


def test_train_fast_then_eval_side_by_side(
    tmp_path: Path, labelled_csv: Path, pairs_dir: Path, tiny_model_dir: Path
) -> None:
    runner = CliRunner()
    config = tmp_path / "train.yaml"
    out = tmp_path / "fast-model"
    config.write_text(f"train_file: {labelled_csv}\noutput_dir: {out}\nloss: cosine\n"
                      f"eval_file: {labelled_csv}\n")
    result = runner.invoke(app, ["train", "--config", str(config), "--fast", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "trained" in result.output and "| csv:labelled" in result.output
    meta = json.loads((out / "pubgraph_train.json").read_text())
    assert meta["config"]["base_model"] == "pubgraph/tiny-bert" and meta["global_step"] == 6

    result = runner.invoke(app, [
        "eval", str(out), "--vs", str(tiny_model_dir), "--pairs", str(pairs_dir),
        "--csv", str(labelled_csv), "--benchmarks", "none",
    ])
    assert result.exit_code == 0, result.output
    md = (out / "eval" / "comparison.md").read_text()
    assert md.splitlines()[0] == f"| task | metric | {tiny_model_dir.name} | fast-model | Δ |"
    for task in ("pairs:test", "citations", "title_abstract", "csv:labelled"):
        assert f"| {task} (n=" in md
    data = json.loads((out / "eval" / "comparison.json").read_text())
    assert {r["task"] for r in data["rows"]} >= {"pairs:test", "citations"}
    assert "| citations (n=" in (out / "README.md").read_text()  # card refreshed

    # --tasks runs a subset; the card and metrics.json keep the other tasks' results
    before = json.loads((out / "metrics.json").read_text())["results"]
    result = runner.invoke(app, [
        "eval", str(out), "--vs", str(tiny_model_dir), "--pairs", str(pairs_dir),
        "--benchmarks", "none", "--tasks", "title_abstract", "--out", str(tmp_path / "ta"),
    ])
    assert result.exit_code == 0, result.output
    ta = json.loads((tmp_path / "ta" / "comparison.json").read_text())
    assert {r["task"] for r in ta["rows"]} == {"title_abstract"}
    after = json.loads((out / "metrics.json").read_text())["results"]
    assert list(after["model"]) == list(before["model"])  # same tasks, same order
    assert after["model"]["csv:labelled"] == before["model"]["csv:labelled"]
    assert after["base"]["citations"] == before["base"]["citations"]
    assert after["model"]["title_abstract"]["mrr@10"] == ta["results"]["model"]["title_abstract"][
        "mrr@10"]
    card = (out / "README.md").read_text()
    assert "| citations (n=" in card and "| title_abstract (n=" in card

    # the base column can come from that comparison instead of being computed again
    result = runner.invoke(app, [
        "eval", str(out), "--vs", str(tiny_model_dir), "--csv", str(labelled_csv),
        "--benchmarks", "none", "--base-results", str(out / "eval" / "comparison.json"),
        "--out", str(tmp_path / "again"),
    ])
    assert result.exit_code == 0, result.output
    assert "base results reused" in result.output and "csv:labelled" in result.output
    again = json.loads((tmp_path / "again" / "comparison.json").read_text())
    assert again["results"]["base"]["csv:labelled"] == data["results"]["base"]["csv:labelled"]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    from pubgraph.cli import main  # noqa: F401  (the entry point prints PubgraphError)

    runner = CliRunner()
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code != 0
    assert "does not exist" in str(result.exception)
    result = runner.invoke(app, ["eval", str(tmp_path), "--benchmarks", "mteb"])
    assert "unknown benchmark 'mteb'" in str(result.exception)
    result = runner.invoke(app, ["eval", str(tmp_path), "--benchmarks", "none",
                                 "--tasks", "pairs,scidocs"])
    assert "unknown task 'scidocs'" in str(result.exception)
