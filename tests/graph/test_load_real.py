"""Loading real PubMed files (parsed by ingest into Parquet) into the real Neo4j, checked
against the graph the rows describe, computed here independently with plain sets."""

from __future__ import annotations

import atexit
import functools
import gzip
import itertools
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lxml import etree

from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader, author_key
from pubgraph.graph.stats import graph_snapshot, graph_stats
from pubgraph.ingest.files import sync_files
from pubgraph.ingest.pubmed import iter_pubmed, parse_deletions
from pubgraph.ingest.records import RECORD_SCHEMA, Article, to_row

pytestmark = pytest.mark.neo4j

_WORK = Path(tempfile.mkdtemp(prefix="pubgraph-test-load-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


@functools.cache
def small_parquet(shared: Path) -> Path:
    """The three pubmed_small files (314 articles) as one Parquet file, via ingest."""
    out = _WORK / "pubmed_small.parquet"
    sync_files(sorted((shared / "pubmed_small").glob("*.xml")), out, progress=False)
    return out


@functools.cache
def slice_parquet(shared: Path, name: str, limit: int) -> Path:
    """The first ``limit`` articles of a shared PubMed file, plus all of its deletions."""
    src = shared / "pubmed" / f"{name}.xml.gz"
    out = _WORK / f"{name}-{limit}.parquet"
    first = itertools.islice((r for r in iter_pubmed(src) if isinstance(r, Article)), limit)
    rows = [to_row(r, src.name) for r in first]
    # The DeleteCitation block closes the file: cut it out rather than parse every article.
    with gzip.open(src, "rb") as fh:
        data = fh.read()
    start = data.rfind(b"<DeleteCitation>")
    if start >= 0:
        end = data.index(b"</DeleteCitation>", start) + len(b"</DeleteCitation>")
        rows += [to_row(d, src.name) for d in parse_deletions(etree.fromstring(data[start:end]))]
    pq.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), out)
    return out


def expected_graph(paths: Iterable[Path]) -> dict[str, Any]:
    """The graph the rows of ``paths`` describe, from first principles: the last version of
    each article wins; a file's deletions apply after its articles; a deleted article stays
    as a stub only while something cites it."""
    state: dict[str, dict[str, Any]] = {}
    deleted: set[str] = set()
    for path in paths:
        rows = pq.read_table(path).to_pylist()
        dels: list[str] = []
        for row in rows:
            if row["record_type"] == "article":
                state[row["pmid"]] = row
                deleted.discard(row["pmid"])
            else:
                dels.append(row["pmid"])
        for pmid in dels:
            if state.pop(pmid, None) is not None or pmid in deleted:
                deleted.add(pmid)
    cites = {(p, r["pmid"].strip()) for p, row in state.items() for r in row["references"]
             if r["pmid"] and r["pmid"].strip() != p}
    cited = {b for _, b in cites}
    return {
        "text": set(state),
        "stubs": cited - set(state),
        "deleted_stubs": deleted & cited,
        "cites": cites,
        "has_mesh": {(p, m["ui"]) for p, row in state.items() for m in row["mesh"]},
        "authored_by": {(p, k) for p, row in state.items() for a in row["authors"]
                        if (k := author_key(a)) is not None},
        "published_in": {(p, row["journal_id"]) for p, row in state.items()
                         if row["journal_id"]},
    }


def actual_graph(snapshot: tuple[set[Any], set[Any]]) -> dict[str, Any]:
    """The same sets, read from a :func:`graph_snapshot`."""
    nodes, rels = snapshot
    arts = {dict(p)["pmid"]: dict(p) for labels, p in nodes if labels == ("Article",)}

    def pairs(rel_type: str) -> set[tuple[Any, Any]]:
        return {(a, b) for t, _, a, _, b, _ in rels if t == rel_type}

    return {
        "text": {p for p, a in arts.items() if not a["stub"]},
        "stubs": {p for p, a in arts.items() if a["stub"]},
        "deleted_stubs": {p for p, a in arts.items() if a.get("deleted")},
        "cites": pairs("CITES"),
        "has_mesh": pairs("HAS_MESH"),
        "authored_by": pairs("AUTHORED_BY"),
        "published_in": pairs("PUBLISHED_IN"),
    }


def test_small_real_files_load_as_described(graph_db: GraphDB, shared_data: Path) -> None:
    path = small_parquet(shared_data)
    summary = GraphLoader(graph_db, batch_size=1000).load_parquet([path])
    expected = expected_graph([path])
    before = graph_snapshot(graph_db)
    assert actual_graph(before) == expected
    assert len(expected["text"]) == 314 and len(expected["cites"]) > 2500
    stats = graph_stats(graph_db)
    in_corpus = {(a, b) for a, b in expected["cites"] if b in expected["text"]}
    assert stats["cites_in_corpus"] == len(in_corpus) > 0
    assert summary.citations == len(expected["cites"])

    # Again with other batch boundaries: nothing changes, down to every property.
    again = GraphLoader(graph_db, batch_size=2500).load_parquet([path])
    assert graph_snapshot(graph_db) == before
    assert (again.nodes_created, again.relationships_created) == (0, 0)


def test_update_file_after_baseline_slices(graph_db: GraphDB, shared_data: Path) -> None:
    # 2,000 baseline articles, then 1,500 update articles and the update's 20 deletions.
    base = slice_parquet(shared_data, "pubmed20n0014", 2000)
    update = slice_parquet(shared_data, "pubmed21n1298", 1500)
    loader = GraphLoader(graph_db, batch_size=3000)
    loader.load_parquet([base])
    loader.load_parquet([update])
    expected = expected_graph([base, update])
    before = graph_snapshot(graph_db)
    assert actual_graph(before) == expected
    assert pq.read_table(update).column("record_type").to_pylist().count("deletion") == 20

    # Loading the update again is a no-op, down to every property.
    loader.load_parquet([update])
    assert graph_snapshot(graph_db) == before


_PAIRS = {
    "cites": "MATCH (a:Article)-[:CITES]->(b:Article) RETURN a.pmid AS x, b.pmid AS y",
    "has_mesh": "MATCH (a:Article)-[:HAS_MESH]->(m:MeshTerm) RETURN a.pmid AS x, m.ui AS y",
    "authored_by": "MATCH (a:Article)-[:AUTHORED_BY]->(u:Author) RETURN a.pmid AS x, u.key AS y",
    "published_in": "MATCH (a:Article)-[:PUBLISHED_IN]->(j:Journal) RETURN a.pmid AS x, j.id AS y",
}
_ARTICLES = {
    "text": "MATCH (a:Article) WHERE a.stub = false RETURN a.pmid AS x",
    "stubs": "MATCH (a:Article) WHERE a.stub = true RETURN a.pmid AS x",
    "deleted_stubs": "MATCH (a:Article) WHERE a.deleted = true RETURN a.pmid AS x",
}


def queried_graph(driver: GraphDB) -> dict[str, Any]:
    """The sets of :func:`actual_graph`, read with narrow queries (for big graphs)."""
    out: dict[str, Any] = {}
    for name, query in _ARTICLES.items():
        out[name] = {r["x"] for r in driver.execute_query(query).records}
    for name, query in _PAIRS.items():
        out[name] = {(r["x"], r["y"]) for r in driver.execute_query(query).records}
    return out


@pytest.mark.slow
def test_full_shared_files_update_after_baseline(graph_db: GraphDB,
                                                 shared_data: Path) -> None:
    paths = []
    for name in ("pubmed20n0014", "pubmed21n1298"):
        out = _WORK / f"{name}.parquet"
        if not out.exists():
            sync_files([shared_data / "pubmed" / f"{name}.xml.gz"], out, progress=False)
        paths.append(out)
    GraphLoader(graph_db).load_parquet(paths)
    expected = expected_graph(paths)
    actual = queried_graph(graph_db)
    for name in expected:  # one set at a time: a failure names the part that differs
        assert actual[name] == expected[name], name
    assert len(expected["text"]) > 50_000 and len(expected["cites"]) > 140_000
