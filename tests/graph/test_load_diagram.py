"""The model picture is drawn from the live schema, and that schema matches the documented
model (``graph.diagram.MODEL_*``) after every loader has run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.graph.db import GraphDB
from pubgraph.graph.diagram import (
    MODEL_NODES,
    MODEL_RELS,
    Schema,
    read_schema,
    render,
    schema_differences,
)
from pubgraph.graph.edgelist import load_edge_list
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.mesh import load_mesh
from tests.graph.test_load_update import baseline_rows


def test_differences_name_what_the_model_lacks() -> None:
    schema = Schema(nodes={"Article": {"pmid": "str", "colour": "str"}, "Gene": {}},
                    rels={("Article", "CITES", "Article"): {"weight": "float"}})
    assert schema_differences(schema) == [
        "Article.colour is not in the model", "CITES.weight is not in the model",
        "label Gene is not in the model"]


@pytest.mark.neo4j
def test_live_schema_matches_the_model_and_renders(graph_db: GraphDB,
                                                   tmp_path: Path) -> None:
    GraphLoader(graph_db).load_rows(baseline_rows())
    mesh = tmp_path / "tree.tsv"
    mesh.write_text("mesh_id\tmesh_name\tmesh_tree_number\nD1\tHeart\tA01\nD2\tLung\tA01.1\n")
    load_mesh(graph_db, mesh)
    edges = tmp_path / "e.cites.tab"
    edges.write_text("1\tpaper:7\t|\tpaper:8\n")
    load_edge_list(graph_db, edges)

    schema = read_schema(graph_db)
    assert schema_differences(schema) == []
    assert set(schema.rels) == set(MODEL_RELS)
    assert set(schema.nodes) == set(MODEL_NODES)
    assert schema.nodes["Article"]["pmid"] == "str"
    assert schema.rels[("Article", "HAS_MESH", "MeshTerm")]["major"] == "bool"

    out = render(schema, tmp_path / "model.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
