"""``export_embeddings``: the stored vectors, alone, in Parquet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import InputError
from pubgraph.embeddings.export import export_embeddings
from pubgraph.graph.db import GraphDB
from tests.embeddings.conftest import add_articles

pytestmark = pytest.mark.neo4j


def test_export_writes_pmid_and_float32_vectors(graph_db: GraphDB, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vecs = {str(p): rng.normal(size=5).astype(np.float32) for p in (12, 7, 31, 100, 2)}
    add_articles(graph_db, [{"pmid": p, "vector": v.tolist()} for p, v in vecs.items()])
    add_articles(graph_db, [{"pmid": "50", "stub": True}, {"pmid": "51", "title": "no vector"}])
    graph_db.execute_query("MATCH (a:Article) SET a.embedding_model = 'm@1'")
    out = tmp_path / "vectors.parquet"
    seen: list[int] = []

    summary = export_embeddings(graph_db, out, page=2, on_progress=seen.append)

    table = pq.read_table(out)
    assert table.schema == pa.schema([("pmid", pa.string()), ("vector", pa.list_(pa.float32()))])
    assert table.column("pmid").to_pylist() == sorted(vecs)  # pmid order (string order)
    for pmid, vec in zip(
        table.column("pmid").to_pylist(), table.column("vector").to_pylist(), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(vec, dtype=np.float32), vecs[pmid])
    assert (summary.rows, summary.dimension, summary.models) == (5, 5, ["m@1"])
    assert sum(seen) == 5 and len(seen) == 3  # pages of 2, 2, 1
    meta = pq.read_metadata(out).metadata
    assert meta[b"pubgraph.dimension"] == b"5" and b"m@1" in meta[b"pubgraph.core.models"]
    assert not out.with_name(out.name + ".partial").exists()


def test_export_one_model_and_refuse_mixed_dimensions(
    graph_db: GraphDB, tmp_path: Path
) -> None:
    add_articles(
        graph_db,
        [
            {"pmid": "1", "vector": [1.0, 0.0, 0.0]},
            {"pmid": "2", "vector": [0.0, 1.0, 0.0]},
            {"pmid": "3", "vector": [1.0, 0.0]},
        ],
    )
    graph_db.execute_query(
        "MATCH (a:Article) SET a.embedding_model = CASE a.pmid WHEN '3' THEN 'b' ELSE 'a' END"
    )
    only_a = export_embeddings(graph_db, tmp_path / "a.parquet", model_id="a")
    assert (only_a.rows, only_a.dimension) == (2, 3)
    assert pq.read_table(tmp_path / "a.parquet").column("pmid").to_pylist() == ["1", "2"]

    with pytest.raises(InputError, match="mixed dimensions"):
        export_embeddings(graph_db, tmp_path / "all.parquet")
    assert not (tmp_path / "all.parquet").exists()
    assert not (tmp_path / "all.parquet.partial").exists()


def test_export_of_an_empty_graph_is_an_empty_file(graph_db: GraphDB, tmp_path: Path) -> None:
    summary = export_embeddings(graph_db, tmp_path / "none.parquet")
    assert summary.rows == 0
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0
    with pytest.raises(InputError, match="output directory does not exist"):
        export_embeddings(graph_db, tmp_path / "missing" / "x.parquet")
