"""The ``embed``, ``search ...`` and ``embeddings ...`` commands end to end (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.core.errors import InputError
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles, add_cites, add_mesh

pytestmark = pytest.mark.neo4j
runner = CliRunner()

TITLES = {
    "11": "insulin glucose diabetes pancreas",
    "12": "glucose insulin blood study",
    "13": "brain memory cortex neuron",
    "14": "air embolism venous gas",
    "15": "tumor cancer chemotherapy",
}


@pytest.fixture()
def small(graph_db: GraphDB) -> GraphDB:
    add_articles(
        graph_db, [{"pmid": p, "title": t, "year": 2000 + int(p)} for p, t in TITLES.items()]
    )
    add_articles(graph_db, [{"pmid": "99", "stub": True}])
    add_cites(graph_db, [("11", "12"), ("13", "11"), ("14", "99"), ("15", "99"), ("13", "12")])
    add_mesh(
        graph_db,
        {"D1": "Diabetes", "D2": "Brain"},
        [],
        [("11", "D1", True), ("12", "D1", False), ("13", "D2", True)],
    )
    return graph_db


def run(*args: str) -> object:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def test_embed_then_every_search_command(
    small: GraphDB, tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = run("embed", "--model", str(tiny_model_dir), "--chunk", "2", "--no-progress", "--json")
    summary = json.loads(out.output[out.output.index("{") :])
    assert (summary["with_text"], summary["written"], summary["dimension"]) == (5, 5, 32)

    again = run("embed", "--model", str(tiny_model_dir), "--no-progress")
    assert "already up to date" in again.output and "vector index article_embedding exists" in (
        again.output
    )

    # Query texts are encoded with the model recorded next to the vectors (no --model).
    hits = json.loads(
        run(
            "search", "text", "brain memory cortex neuron", "-k", "3", "--mode", "vector",
            "--json",
        ).stdout
    )
    assert len(hits) == 3 and hits[0]["pmid"] == "13"
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    # Hybrid (the default) puts the article that matches both lists first.
    fused = json.loads(run("search", "text", "brain memory cortex neuron", "--json").stdout)
    assert fused[0]["pmid"] == "13" and fused[0]["text_rank"] == 1 == fused[0]["vector_rank"]

    filtered = json.loads(run("search", "text", "glucose", "--mesh", "Diabetes", "--json").stdout)
    assert {h["pmid"] for h in filtered} == {"11", "12"}
    years = json.loads(
        run(
            "search", "text", "glucose", "--from-year", "2013", "--to-year", "2014", "--json"
        ).output
    )
    assert {h["pmid"] for h in years} == {"13", "14"}

    similar = json.loads(run("search", "similar", "11", "--json").stdout)
    assert "11" not in {h["pmid"] for h in similar} and len(similar) == 4
    assert set(similar[0]["features"]) >= {"cosine", "cited_by_seeds", "coupled", "mesh"}
    by_cosine = json.loads(run("search", "similar", "11", "--method", "vector", "--json").stdout)
    assert {h["pmid"]: h["score"] for h in by_cosine} == pytest.approx(
        {h["pmid"]: h["cosine"] for h in similar}
    )

    cited = json.loads(run("search", "cited-neighbours", "11", "--hops", "1", "--json").stdout)
    assert {(h["pmid"], h["hops"]) for h in cited} == {("12", 1), ("13", 1)}
    bridged = json.loads(run("search", "cited-neighbours", "14", "--hops", "2", "--json").stdout)
    assert [(h["pmid"], h["hops"]) for h in bridged] == [("15", 2)]

    rec = json.loads(run("search", "recommend", "11", "--json").stdout)
    assert {h["pmid"] for h in rec} == {"14", "15"}  # 12 and 13 are one citation away

    blend = json.loads(
        run("search", "blended", "11", "--alpha", "0", "--relation", "coupling", "--json").stdout
    )
    assert blend[0]["pmid"] == "13" and blend[0]["links"] == 1  # both cite 12

    why = run("search", "explain", "11", "12")
    assert "shared MeSH (1" in why.output and "Diabetes" in why.output
    assert "graph-aware ranker" in why.output and "contribution" in why.output
    assert "11 -cites-> 12" in why.output
    why_json = json.loads(run("search", "explain", "11", "13", "--json").stdout)
    assert why_json["paths"][0]["rendered"] == "11 <-cites- 13"

    table = run("search", "similar", "11", "-k", "2")
    assert "similar to 11" in table.output

    path = tmp_path / "v.parquet"
    exported = run("embeddings", "export", "--out", str(path), "--no-progress")
    assert "wrote 5 vectors (32 dimensions" in exported.output
    assert pq.read_table(path).num_rows == 5
    models = json.loads(run("embeddings", "models", "--json").stdout)
    assert [m["count"] for m in models] == [5] and models[0]["dimension"] == 32


def test_search_errors_name_the_record(small: GraphDB, tiny_model_dir: Path) -> None:
    run("embed", "--model", str(tiny_model_dir), "--no-progress")
    with pytest.raises(InputError, match="record 424242"):
        run("search", "similar", "424242")
    with pytest.raises(InputError, match=r"record 99.*no embedding"):
        run("search", "recommend", "99")


def test_search_before_embed_says_what_to_run(small: GraphDB) -> None:
    with pytest.raises(InputError, match="run `pubgraph embed"):
        run("search", "text", "anything")


def test_help_lists_the_commands() -> None:
    out = run("search", "--help").output
    for name in ("text", "similar", "cited-neighbours", "recommend", "blended", "explain"):
        assert name in out
    assert "--model" in run("embed", "--help").output
    assert "--out" in run("embeddings", "export", "--help").output
