"""Pure parts of the analysis package: texts, hashes, model versions, query builders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pubgraph.core.errors import ConfigError
from pubgraph.embeddings import queries as q
from pubgraph.embeddings.embed import (
    _Writer,
    ensure_vector_index,
    model_version,
    text_hash,
)
from pubgraph.embeddings.search import (
    EXACT_BELOW,
    CitationPath,
    Filters,
    VectorStatus,
    _exact_start,
)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_text_hash_is_short_stable_and_text_sensitive() -> None:
    h = text_hash("Air embolism in divers.")
    assert re.fullmatch(r"[0-9a-f]{16}", h)
    assert h == text_hash("Air embolism in divers.")
    assert h != text_hash("Air embolism in divers")


def test_model_version_covers_weights_config_and_extra(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text("[]")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 64)
    (tmp_path / "README.md").write_text("ignored")
    v1 = model_version(tmp_path, extra=("max_seq_length=256",))
    assert re.fullmatch(r"[0-9a-f]{12}", v1)
    assert model_version(tmp_path, extra=("max_seq_length=256",)) == v1
    assert model_version(tmp_path, extra=("max_seq_length=128",)) != v1
    (tmp_path / "README.md").write_text("changed, still ignored")
    assert model_version(tmp_path, extra=("max_seq_length=256",)) == v1
    (tmp_path / "model.safetensors").write_bytes(b"\x01" * 64)
    assert model_version(tmp_path, extra=("max_seq_length=256",)) != v1
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="not a sentence-transformers model"):
        model_version(empty)


def test_vector_index_statement_is_pinned() -> None:
    assert _flat(q.CREATE_VECTOR_INDEX) == (
        "CREATE VECTOR INDEX article_embedding IF NOT EXISTS FOR (a:Article) ON a.embedding "
        "OPTIONS {indexConfig: {`vector.dimensions`: $dim, "
        "`vector.similarity_function`: 'cosine'}}"
    )


def test_write_back_statement_is_pinned() -> None:
    assert _flat(q.WRITE_VECTORS) == (
        "UNWIND $rows AS r MATCH (a:Article {pmid: r.pmid}) "
        "CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector) "
        "SET a.embedding_model = $model_id, a.embedding_hash = r.text_hash"
    )


def test_index_search_overfetches_then_rescores_exactly() -> None:
    text = _flat(q.VECTOR_SEARCH_INDEX)
    assert "db.index.vector.queryNodes('article_embedding', $fetch, $vector)" in text
    assert "vector.similarity.cosine(a.embedding, $vector) AS s" in text
    assert "2 * s - 1 AS score" in text and "LIMIT $k" in text


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_cited_neighbours_builder(hops: int) -> None:
    query = q.cited_neighbours_query(hops)
    assert f"[:CITES*1..{hops}]" in query and f"[:CITES*..{hops}]" in query
    assert query is q.CITED_NEIGHBOURS[hops]


@pytest.mark.parametrize("bad", [0, 4, -1, True, "2", 2.0, None])
def test_cited_neighbours_builder_rejects_bad_hops(bad: object) -> None:
    with pytest.raises(ValueError, match="hops must be an integer from 1 to 3"):
        q.cited_neighbours_query(bad)  # type: ignore[arg-type]


def test_every_statement_is_fully_built_and_parameterised() -> None:
    statements = {
        name: value
        for name, value in vars(q).items()
        if name.isupper()
        and isinstance(value, str)
        and name not in {"VECTOR_INDEX", "EMBEDDING_PROPERTY"}
    }
    statements.update({f"CITED_NEIGHBOURS[{h}]": s for h, s in q.CITED_NEIGHBOURS.items()})
    statements.update({f"BLENDED{k}": s for k, s in q.BLENDED.items()})
    statements.update({f"VECTOR_SEARCH_EXACT[{k}]": s for k, s in q.VECTOR_SEARCH_EXACT.items()})
    statements.update({f"RECOMMEND_EXACT[{k}]": s for k, s in q.RECOMMEND_EXACT.items()})
    statements.update({f"RELATED{k}": s for k, s in q.RELATED.items()})
    assert len(statements) > 25
    for name, text in statements.items():
        assert "{hops}" not in text and "{link}" not in text, name
        # Values only ever arrive as parameters: no Python formatting leftovers or quotes
        # around anything but the fixed index name, procedure arguments and 'cosine'.
        quoted = set(re.findall(r"'([^']*)'", text))
        assert quoted <= {"article_embedding", "article_text", "embedding", "cosine"}, (
            name,
            quoted,
        )


def test_blended_statements_cover_both_relations_and_sources() -> None:
    assert set(q.BLENDED) == {
        (rel, mode) for rel in ("cocitation", "coupling") for mode in ("index", "exact")
    }
    assert "(q)<-[:CITES]-(:Article)-[:CITES]->(b)" in q.BLENDED[("cocitation", "exact")]
    assert "(q)-[:CITES]->(:Article)<-[:CITES]-(b)" in q.BLENDED[("coupling", "index")]
    assert "queryNodes" in q.BLENDED[("coupling", "index")]
    assert "queryNodes" not in q.BLENDED[("coupling", "exact")]


def test_exact_scans_start_from_the_most_selective_filter() -> None:
    assert set(q.VECTOR_SEARCH_EXACT) == set(q.RECOMMEND_EXACT) == set(q.EXACT_STARTS)
    assert "MATCH (t)<-[:HAS_MESH]-(a:Article)" in q.VECTOR_SEARCH_EXACT["mesh"]
    assert "MATCH (j)<-[:PUBLISHED_IN]-(a:Article)" in q.RECOMMEND_EXACT["journal"]
    assert "a.year >= $year_lo AND a.year <= $year_hi" in q.VECTOR_SEARCH_EXACT["year"]
    base = {"mesh_uis": None, "journal_ids": None, "min_year": None, "max_year": None}
    assert _exact_start(base) == "all"
    assert _exact_start({**base, "max_year": 1990}) == "year"
    assert _exact_start({**base, "max_year": 1990, "journal_ids": ["J"]}) == "journal"
    assert _exact_start({**base, "journal_ids": ["J"], "mesh_uis": ["D1"]}) == "mesh"


def test_citation_path_render() -> None:
    p = CitationPath(pmids=("1", "2", "3"), citing=("1", "3"))
    assert p.length == 2
    assert p.render() == "1 -cites-> 2 <-cites- 3"


def test_filters_and_status() -> None:
    assert not Filters().active
    assert Filters(mesh="D1").active and Filters(min_year=1990).active
    assert VectorStatus(True, 384, EXACT_BELOW).use_index
    assert not VectorStatus(True, 384, EXACT_BELOW - 1).use_index
    assert not VectorStatus(False, None, 10 * EXACT_BELOW).use_index


@pytest.mark.parametrize("dim", [0, -3, True, 3.0, "384"])
def test_index_dimension_is_validated_before_any_query(dim: object) -> None:
    with pytest.raises(ConfigError, match="dimension must be a positive integer"):
        ensure_vector_index(None, dim)  # type: ignore[arg-type]


def test_writer_reraises_a_failed_write_in_the_caller() -> None:
    written: list[int] = []

    def write(rows: list[dict[str, int]]) -> int:
        if rows[0]["i"] == 2:
            raise RuntimeError("write failed")
        written.append(rows[0]["i"])
        return len(rows)

    w = _Writer(write)
    w.put([{"i": 1}])
    w.put([{"i": 2}])
    with pytest.raises(RuntimeError, match="write failed"):
        w.put([{"i": 3}])  # waits for chunk 2, sees its failure
    with pytest.raises(RuntimeError, match="write failed"):
        w.close()
    assert written == [1]


def test_short_filtered_index_pass_widens_before_the_exact_scan(monkeypatch) -> None:
    from pubgraph.embeddings import search

    calls: list[tuple[str, int | None]] = []
    answers = {"first": 3, "wide": 10}

    def fake_run_read(driver, query, params):
        if query == q.VECTOR_SEARCH_INDEX:
            step = "first" if not calls else "wide"
            calls.append((step, params["fetch"]))
            return [{"pmid": str(i)} for i in range(answers[step])]
        calls.append(("exact", None))
        return [{"pmid": "x"}] * 10

    monkeypatch.setattr(search, "run_read", fake_run_read)
    monkeypatch.setattr(search, "_hits", lambda rows: rows)
    no_filters = {"mesh_uis": [], "journal_ids": [], "min_year": 2021, "max_year": None}
    params = {"fetch": 100, **no_filters}
    rows = search._index_then_exact(None, q.VECTOR_SEARCH_INDEX, q.VECTOR_SEARCH_EXACT,
                                    params, 10)
    assert calls == [("first", 100), ("wide", search.WIDE_FETCH)] and len(rows) == 10
    assert params["fetch"] == 100  # the caller's parameters are not changed

    calls.clear()
    answers["wide"] = 4  # still short: the exact scan answers
    search._index_then_exact(None, q.VECTOR_SEARCH_INDEX, q.VECTOR_SEARCH_EXACT,
                             {"fetch": 100, **no_filters}, 10)
    assert [c[0] for c in calls] == ["first", "wide", "exact"]

    calls.clear()  # a first pass already as wide goes straight to the scan
    search._index_then_exact(None, q.VECTOR_SEARCH_INDEX, q.VECTOR_SEARCH_EXACT,
                             {"fetch": search.WIDE_FETCH, **no_filters}, 10)
    assert [c[0] for c in calls] == ["first", "exact"]
