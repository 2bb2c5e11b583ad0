"""Exports with texts from the graph, the held-out citation lists, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.graph.db import GraphDB
from pubgraph.pairing.config import config_from_dict
from pubgraph.pairing.export import export_all, export_run
from pubgraph.pairing.jobs import run_pairs
from tests.pairing import graphs

pytestmark = pytest.mark.neo4j

REPO = Path(__file__).resolve().parents[2]
ALL_TEST = {"train": 0.0, "validation": 0.0, "test": 1.0}


def test_exports_read_texts_from_the_graph(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    graphs.distant_graph(graph_db)
    config = config_from_dict(
        {"strategies": ["cites", "random_distant"], "splits": ALL_TEST, "seed": 3}
    )
    result = run_pairs(graph_db, config, tmp_path / "run", record=False)
    positives = [p for p in result.pairs if p["label"] == 1]
    negatives = [p for p in result.pairs if p["label"] == 0]
    assert len(positives) == 15 and len(negatives) == 15

    s = export_run(graph_db, tmp_path / "run", "pairs", "test")
    frame = pd.read_parquet(s.path)
    assert s.path == tmp_path / "run" / "test_pairs.parquet"
    assert list(frame.columns) == ["anchor", "positive", "anchor_pmid", "positive_pmid"]
    assert list(zip(frame.anchor_pmid, frame.positive_pmid, strict=True)) == [
        (p["pmid_a"], p["pmid_b"]) for p in positives
    ]
    row = frame.iloc[0]
    assert row.anchor == f"Title {row.anchor_pmid}. Abstract of article {row.anchor_pmid}."

    lab = export_run(graph_db, tmp_path / "run", "labelled", "test", tmp_path / "lab.csv")
    csv = pd.read_csv(lab.path, dtype={"pmid_a": str, "pmid_b": str})
    assert list(csv.columns[:3]) == ["text1", "text2", "label"]
    assert len(csv) == len(result.pairs)
    assert sorted(csv.label.tolist()) == [0] * 15 + [1] * 15

    tri = pd.read_parquet(export_run(graph_db, tmp_path / "run", "triplets", "test").path)
    negatives_of: dict[str, set[str]] = {}
    for p in negatives:
        negatives_of.setdefault(p["pmid_a"], set()).add(p["pmid_b"])
        negatives_of.setdefault(p["pmid_b"], set()).add(p["pmid_a"])
    assert len(tri) > 0
    for r in tri.itertuples():
        assert r.negative_pmid in negatives_of[r.anchor_pmid]
        assert {r.anchor_pmid, r.positive_pmid} in [{p["pmid_a"], p["pmid_b"]} for p in positives]

    empty = export_run(graph_db, tmp_path / "run", "pairs", "train")
    assert empty.rows == 0 and pd.read_parquet(empty.path).empty


def test_citation_lists_of_the_test_split(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    config = config_from_dict({"strategies": ["cites"], "splits": ALL_TEST})
    run_pairs(graph_db, config, tmp_path / "run", record=False)
    s = export_run(graph_db, tmp_path / "run", "citations", "test")
    assert s.path.name == "citations_test.parquet"
    frame = pd.read_parquet(s.path)
    got = {r.pmid: list(r.relevant_pmids) for r in frame.itertuples()}
    # Text articles cited, citing, co-cited, or sharing >= 2 references (stubs count as
    # references: 1 and 4 share 2, 3, 101, 102; 6 and 8 share 1, 2). Stubs 101..103 and
    # deleted 9 are never relevant; 7 shares only one reference (101) and is left out.
    assert got == {
        "1": ["2", "3", "4", "5", "6", "8"],
        "2": ["1", "3", "4", "5", "6", "8"],
        "3": ["1", "2", "4", "5"],
        "4": ["1", "2", "3", "5"],
        "5": ["1", "2", "3", "4"],
        "6": ["1", "2", "8"],
        "8": ["1", "2", "6"],
    }
    assert s.skipped == {"articles_without_relevant": 1}


def test_export_all_writes_what_the_trainer_reads(graph_db: GraphDB, tmp_path: Path) -> None:
    graphs.citation_graph(graph_db)
    config = config_from_dict({"strategies": ["cites", "random_distant"], "splits": ALL_TEST})
    run_pairs(graph_db, config, tmp_path / "run", record=False)
    done = export_all(graph_db, tmp_path / "run")
    names = {s.path.name for s in done}
    assert {
        "texts.parquet",
        "citations_test.parquet",
        "train_triplets.parquet",
        "test_labelled.parquet",
    } <= names
    texts = pd.read_parquet(tmp_path / "run" / "texts.parquet")
    assert sorted(texts.pmid) == [str(i) for i in range(1, 9)]
    assert set(texts.split) == {"test"}


def test_cli_run_list_show_export(
    graph_db: GraphDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graphs.citation_graph(graph_db)
    graphs.distant_graph(graph_db)
    config = tmp_path / "pairs.yaml"
    config.write_text(
        "splits: {train: 1.0, validation: 0.0, test: 0.0}\nparams: {bib_coupling: {k: 2}}\n"
    )
    runner = CliRunner()
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "pairs",
            "run",
            "--strategy",
            "cites,bib_coupling,random_distant",
            "--config",
            str(config),
            "--seed",
            "3",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "pairs crossing splits: 0" in res.output
    assert (out / "pairs.parquet").is_file()
    run_id = __import__("json").loads((out / "run.json").read_text())["id"]

    res = runner.invoke(app, ["pairs", "list"])
    assert res.exit_code == 0 and run_id in res.output
    res = runner.invoke(app, ["pairs", "show", run_id[:8], "--json"])
    assert res.exit_code == 0, res.output
    shown = __import__("json").loads(res.output)
    assert shown["run"]["id"] == run_id
    assert shown["pairs"]["by_strategy"]["bib_coupling"]["train"] == 4
    res = runner.invoke(
        app,
        [
            "pairs",
            "export",
            run_id,
            "--format",
            "labelled",
            "--split",
            "train",
            "--out",
            str(tmp_path / "x.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "x.csv").shape[0] == shown["run"]["counts"]["pairs"]
    res = runner.invoke(app, ["pairs", "diff", run_id, run_id])
    assert res.exit_code == 0 and "(identical)" in res.output


def test_cli_bad_strategy_is_one_line_without_traceback() -> None:
    env = {**os.environ, "PUBGRAPH_DATA_DIR": "/nonexistent-pubgraph"}
    proc = subprocess.run(
        [sys.executable, "-m", "pubgraph", "pairs", "run", "--strategy", "cites,nope"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown strategy 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
