"""Hybrid search: Lucene escaping, rank fusion by hand, the full-text index on real Neo4j,
and the batch command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.core.errors import ConfigError, InputError
from pubgraph.embeddings import search as s
from pubgraph.graph.db import GraphDB
from pubgraph.graph.schema import SCHEMA_STATEMENTS
from tests.embeddings.conftest import add_articles

# --- unit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("tau protein", "tau protein"),
        ("a:b", "a\\:b"),
        ('"unclosed phrase', '\\"unclosed phrase'),
        ("(group", "\\(group"),
        ("x AND y OR NOT z", "x and y or not z"),
        ("x && y || !z", "x \\&\\& y \\|\\| \\!z"),
        ("c++ [1 TO 5] {a} ^2 ~0.5 w* q? back\\slash a/b -minus +plus", (
            "c\\+\\+ \\[1 to 5\\] \\{a\\} \\^2 \\~0.5 w\\* q\\? back\\\\slash a\\/b "
            "\\-minus \\+plus"
        )),
        ("Android ANDROID", "Android ANDROID"),  # only whole operator words change
    ],
)
def test_escape_lucene(raw: str, escaped: str) -> None:
    assert s.escape_lucene(raw) == escaped


def test_rrf_by_hand() -> None:
    fused = s.fuse_rrf([["a", "b", "c"], ["c", "a", "d"]], k0=60)
    want = {
        "a": 1 / 61 + 1 / 62,
        "b": 1 / 62,
        "c": 1 / 63 + 1 / 61,
        "d": 1 / 63,
    }
    assert [d for d, _ in fused] == ["a", "c", "b", "d"]
    assert dict(fused) == pytest.approx(want)
    # Weights scale each list's contribution; ties break by id.
    weighted = s.fuse_rrf([["x"], ["y"]], k0=0, weights=[1.0, 3.0])
    assert weighted == [("y", 3.0), ("x", 1.0)]
    assert s.fuse_rrf([["q"], ["p"]], k0=0) == [("p", 1.0), ("q", 1.0)]
    with pytest.raises(ConfigError):
        s.fuse_rrf([["a"]], weights=[1.0, 2.0])


def test_weighted_fusion_by_hand() -> None:
    fused = s.fuse_weighted([[("a", 2.0), ("b", 1.0)], [("b", 10.0), ("c", 5.0)]], [0.25, 0.75])
    # a: 0.25*1; b: 0.25*0.5 + 0.75*1; c: 0.75*0.5
    assert fused == [("b", pytest.approx(0.875)), ("c", pytest.approx(0.375)),
                     ("a", pytest.approx(0.25))]


def test_minmax_fusion_and_alpha_by_hand() -> None:
    fused = s.fuse_weighted(
        [[("a", 0.9), ("b", 0.5), ("c", 0.1)], [("c", 8.0), ("d", 4.0)]], [0.5, 0.5], minmax=True
    )
    # a: .5*1; b: .5*.5; c: .5*0 + .5*1; d: .5*0
    assert fused == [("a", 0.5), ("c", 0.5), ("b", 0.25), ("d", 0.0)]
    v = [s.Hit("a", None, None, None, 0.9), s.Hit("b", None, None, None, 0.8)]
    t = [s.Hit("b", None, None, None, 3.0), s.Hit("c", None, None, None, 2.0)]
    plain = s.fuse_hits(v, t, k=3, fusion="rrf", alpha=0.5)
    assert [(h.pmid, h.score) for h in plain] == [
        ("b", pytest.approx(1 / 62 + 1 / 61)), ("a", pytest.approx(1 / 61)),
        ("c", pytest.approx(1 / 62)),
    ]
    assert (plain[0].vector_rank, plain[0].text_rank, plain[0].text_score) == (2, 1, 3.0)
    vector_only = s.fuse_hits(v, t, k=3, fusion="rrf", alpha=1.0)
    assert [h.pmid for h in vector_only][:2] == ["a", "b"] and vector_only[2].score == 0.0


def test_read_queries(tmp_path: Path) -> None:
    f = tmp_path / "q.tsv"
    f.write_text("q1\tamyloid beta\n\nplain text query\nq3\t tau: (PET) \n")
    assert s.read_queries(f) == [("q1", "amyloid beta"), ("3", "plain text query"),
                                 ("q3", "tau: (PET)")]
    f.write_text("a\tx\na\ty\n")
    with pytest.raises(InputError, match="line 2: duplicate query id"):
        s.read_queries(f)
    f.write_text("a\t \n")
    with pytest.raises(InputError, match=r"q.tsv.*line 1"):
        s.read_queries(f)


def test_fulltext_index_is_part_of_the_schema() -> None:
    statement = dict(SCHEMA_STATEMENTS)["article_text"]
    assert "FULLTEXT INDEX article_text IF NOT EXISTS" in statement
    assert "[a.title, a.abstract]" in statement


# --- real Neo4j -----------------------------------------------------------------------------

DOCS = {
    "1": ("Insulin resistance in diabetes", "Glucose uptake falls in the liver."),
    "2": ("Brain memory and the cortex", "Neuron loss follows amyloid deposition."),
    "3": ("Air embolism", "Venous gas under pressure: a case study."),
    "4": ("Tumor chemotherapy", "Cancer cells and the AND gate receptor."),
    "5": ("Kidney and liver", "Protein in blood after treatment."),
}


@pytest.fixture()
def docs(graph_db: GraphDB, tiny_embedder) -> GraphDB:
    from pubgraph.core.contracts import article_text

    texts = [article_text(t, a) for t, a in DOCS.values()]
    vecs = tiny_embedder.encode(texts)
    add_articles(
        graph_db,
        [
            {"pmid": p, "title": t, "abstract": a, "year": 2000 + int(p), "vector": v.tolist()}
            for (p, (t, a)), v in zip(DOCS.items(), vecs, strict=True)
        ],
    )
    add_articles(graph_db, [{"pmid": "9", "title": "Liver deleted", "deleted": True}])
    return graph_db


@pytest.mark.neo4j
def test_fulltext_search_escapes_and_filters(docs: GraphDB) -> None:
    s._fulltext_cache.clear()
    hits = s.search_fulltext(docs, "liver", k=10)
    assert {h.pmid for h in hits} == {"1", "5"}  # the deleted article is never returned
    assert all(h.score > 0 for h in hits)
    # Syntax characters mean nothing: the same hits as the bare words, no parse error.
    plain = [h.pmid for h in s.search_fulltext(docs, "venous gas pressure", k=10)]
    for noisy in ('venous: (gas "pressure', "venous AND gas OR pressure", "venous && gas ||"
                  " pressure~ [pressure TO gas]"):
        assert [h.pmid for h in s.search_fulltext(docs, noisy, k=10)] == plain
    # "AND" is searched as a word (a stop word), never as an operator that would require
    # both sides: "gate AND kidney" finds either.
    assert {h.pmid for h in s.search_fulltext(docs, "gate AND kidney", k=10)} == {"4", "5"}
    assert s.search_fulltext(docs, ":: ((", k=5) == []
    filtered = s.search_fulltext(docs, "liver", k=10, filters=s.Filters(min_year=2005))
    assert [h.pmid for h in filtered] == ["5"]


@pytest.mark.neo4j
def test_hybrid_fuses_both_lists(docs: GraphDB, tiny_embedder) -> None:
    s._fulltext_cache.clear()
    query = "liver glucose"
    vector = s.search_text(docs, tiny_embedder, query, k=5, exact=True)
    text = s.search_fulltext(docs, query, k=5)
    rrf = s.search_hybrid(docs, tiny_embedder, query, k=5, exact=True, fusion="rrf", alpha=0.5)
    want = s.fuse_rrf([[h.pmid for h in vector], [h.pmid for h in text]])[:5]
    assert [(h.pmid, h.score) for h in rrf] == [(p, pytest.approx(v)) for p, v in want]
    # The default: min-max normalised scores, alpha 0.6 on the vector list.
    hybrid = s.search_hybrid(docs, tiny_embedder, query, k=5, exact=True)
    want = s.fuse_weighted(
        [[(h.pmid, h.score) for h in vector], [(h.pmid, h.score) for h in text]],
        [0.6, 0.4],
        minmax=True,
    )[:5]
    assert [(h.pmid, h.score) for h in hybrid] == [(p, pytest.approx(v)) for p, v in want]
    top = hybrid[0]
    assert isinstance(top, s.HybridHit) and top.text_rank is not None
    assert top.vector_rank is not None
    assert [h.pmid for h in s.search_hybrid(docs, tiny_embedder, query, mode="vector",
                                             exact=True)] == [h.pmid for h in
                                                              s.search_text(docs, tiny_embedder,
                                                                            query, exact=True)]
    weighted = s.search_hybrid(docs, tiny_embedder, query, fusion="weighted", alpha=0.0,
                               exact=True)
    assert [h.pmid for h in weighted[: len(text)]] == [h.pmid for h in text]
    batch = s.search_batch(docs, tiny_embedder, [("a", query), ("b", "brain")], k=3, exact=True)
    assert batch[0] == ("a", hybrid[:3])
    with pytest.raises(ConfigError, match="mode must be one of"):
        s.search_hybrid(docs, tiny_embedder, query, mode="bm25")


@pytest.mark.neo4j
def test_missing_fulltext_index_says_what_to_run(docs: GraphDB, tiny_embedder) -> None:
    docs.execute_query("DROP INDEX article_text")
    s._fulltext_cache.clear()
    try:
        with pytest.raises(ConfigError, match="pubgraph graph init"):
            s.search_hybrid(docs, tiny_embedder, "liver")
    finally:
        from pubgraph.graph.schema import init_schema

        init_schema(docs)
        s._fulltext_cache.clear()


@pytest.mark.neo4j
def test_batch_cli_writes_one_json_line_per_query(
    docs: GraphDB, tiny_model_dir: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    # Record the model next to the vectors (embed finds them up to date and records it).
    r = runner.invoke(app, ["embed", "--model", str(tiny_model_dir), "--no-progress"])
    assert r.exit_code == 0, r.output
    s._fulltext_cache.clear()
    f = tmp_path / "q.txt"
    f.write_text("x1\tliver\nventricle: (gas\n")
    r = runner.invoke(app, ["search", "text", "--queries", str(f), "-k", "2", "--json"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["x1", "2"]
    assert all(len(x["hits"]) == 2 and set(x["hits"][0]) == {"pmid", "score"} for x in lines)
    one = runner.invoke(app, ["search", "text", "liver", "-k", "2", "--json"])
    assert [h["pmid"] for h in json.loads(one.stdout)] == [h["pmid"] for h in lines[0]["hits"]]
    bm25 = runner.invoke(app, ["search", "text", "liver", "--mode", "fulltext", "--json"])
    assert {h["pmid"] for h in json.loads(bm25.stdout)} == {"1", "5"}
