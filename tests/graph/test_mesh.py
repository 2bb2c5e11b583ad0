"""MeSH hierarchy: parsing the TSV and NLM descriptor XML, and loading BROADER edges."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pubgraph.core.errors import InputError
from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.mesh import (
    Descriptor,
    load_mesh,
    parent_tree_number,
    parse_descriptor_xml,
    parse_mesh_file,
    parse_tree_number_tsv,
    transform_hierarchy,
)
from pubgraph.graph.stats import graph_snapshot
from pubgraph.ingest.records import Article, MeshHeading, to_row

# A hand-written excerpt in the shape of NLM's descYYYY.xml. The PharmacologicalAction
# block refers to another descriptor's UI: the parser must take the record's own UI only.
DESC_XML = """<?xml version="1.0"?>
<!DOCTYPE DescriptorRecordSet SYSTEM "desc2024.dtd">
<DescriptorRecordSet LanguageCode="eng">
  <DescriptorRecord DescriptorClass="1">
    <DescriptorUI>D001829</DescriptorUI>
    <DescriptorName><String>Body Regions</String></DescriptorName>
    <TreeNumberList><TreeNumber>A01</TreeNumber></TreeNumberList>
  </DescriptorRecord>
  <DescriptorRecord DescriptorClass="1">
    <DescriptorUI>D006257</DescriptorUI>
    <DescriptorName><String>Head</String></DescriptorName>
    <TreeNumberList><TreeNumber>A01.456</TreeNumber></TreeNumberList>
  </DescriptorRecord>
  <DescriptorRecord DescriptorClass="1">
    <DescriptorUI>D005123</DescriptorUI>
    <DescriptorName><String>Eye</String></DescriptorName>
    <PharmacologicalActionList>
      <PharmacologicalAction>
        <DescriptorReferredTo>
          <DescriptorUI>D000000</DescriptorUI>
          <DescriptorName><String>Not this one</String></DescriptorName>
        </DescriptorReferredTo>
      </PharmacologicalAction>
    </PharmacologicalActionList>
    <TreeNumberList>
      <TreeNumber>A01.456.505.420</TreeNumber>
      <TreeNumber>A09.371</TreeNumber>
    </TreeNumberList>
  </DescriptorRecord>
  <DescriptorRecord DescriptorClass="1">
    <DescriptorUI>D005145</DescriptorUI>
    <DescriptorName><String>Face</String></DescriptorName>
    <TreeNumberList><TreeNumber>A01.456.505</TreeNumber></TreeNumberList>
  </DescriptorRecord>
  <DescriptorRecord DescriptorClass="1">
    <DescriptorUI>D012679</DescriptorUI>
    <DescriptorName><String>Sense Organs</String></DescriptorName>
    <TreeNumberList><TreeNumber>A09</TreeNumber></TreeNumberList>
  </DescriptorRecord>
</DescriptorRecordSet>
"""

EXPECTED_BROADER = {
    ("D006257", "D001829"),  # Head -> Body Regions
    ("D005145", "D006257"),  # Face -> Head
    ("D005123", "D005145"),  # Eye -> Face (A01.456.505.420)
    ("D005123", "D012679"),  # Eye -> Sense Organs (A09.371)
}


@pytest.fixture()
def desc_xml(tmp_path: Path) -> Path:
    path = tmp_path / "desc2024.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(DESC_XML)
    return path


def test_parent_tree_number() -> None:
    assert parent_tree_number("A01.236.500") == "A01.236"
    assert parent_tree_number("A01") is None


def test_parse_descriptor_xml_takes_the_records_own_ui(desc_xml: Path) -> None:
    descriptors = {d.ui: d for d in parse_descriptor_xml(desc_xml)}
    assert set(descriptors) == {"D001829", "D006257", "D005123", "D005145", "D012679"}
    assert descriptors["D005123"] == Descriptor("D005123", "Eye", ("A01.456.505.420", "A09.371"))


def test_transform_hierarchy_one_edge_per_parent_descriptor(desc_xml: Path) -> None:
    terms, edges, unresolved = transform_hierarchy(parse_mesh_file(desc_xml))
    assert {(e["ui"], e["parent"]) for e in edges} == EXPECTED_BROADER
    assert unresolved == 0
    eye = next(t for t in terms if t["ui"] == "D005123")
    assert eye["parents"] == ["D005145", "D012679"]


def test_unresolved_parent_is_counted_not_linked() -> None:
    terms, edges, unresolved = transform_hierarchy([Descriptor("D1", "x", ("Z01.002",))])
    assert (edges, unresolved) == ([], 1)
    assert terms[0]["parents"] == []


def test_tsv_groups_tree_numbers_per_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "tree.tsv"
    path.write_text("mesh_id\tmesh_name\tmesh_tree_number\n"
                    "D1\tOne\tA01\nD2\tTwo\tA01.100\nD2\tTwo\tB02.200\n")
    assert parse_tree_number_tsv(path) == [Descriptor("D1", "One", ("A01",)),
                                           Descriptor("D2", "Two", ("A01.100", "B02.200"))]
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tname\nD1\tx\n")
    with pytest.raises(InputError, match="missing column") as err:
        parse_mesh_file(bad)
    assert err.value.field == "mesh_id"


def test_shared_tree_numbers_file_parses(shared_data: Path) -> None:
    path = shared_data / "mesh" / "tree-numbers.tsv"
    descriptors = parse_mesh_file(path)
    with path.open() as fh:
        lines = [line.rstrip("\n").split("\t") for line in fh][1:]
    assert len(descriptors) == len({row[0] for row in lines})
    assert sum(len(d.tree_numbers) for d in descriptors) == len({(r[0], r[2]) for r in lines})
    terms, edges, unresolved = transform_hierarchy(descriptors)
    assert len(edges) > len(terms) * 0.9  # nearly every descriptor has a broader one
    assert unresolved == 0


@pytest.mark.neo4j
def test_load_mesh_hierarchy_and_article_names_win(graph_db: GraphDB, desc_xml: Path) -> None:
    GraphLoader(graph_db).load_rows(
        [to_row(Article("1", title="t", mesh=(MeshHeading("D005123", "Eyes (2021 name)"),)),
                "a.xml")])
    summary = load_mesh(graph_db, desc_xml, batch_size=2)
    assert (summary.descriptors, summary.broader) == (5, 4)
    nodes, rels = graph_snapshot(graph_db)
    broader = {(a, b) for t, _, a, _, b, _ in rels if t == "BROADER"}
    assert broader == EXPECTED_BROADER
    terms = {dict(p)["ui"]: dict(p) for labels, p in nodes if labels == ("MeshTerm",)}
    assert terms["D005123"] == {"ui": "D005123", "name": "Eyes (2021 name)",
                                "tree_numbers": ("A01.456.505.420", "A09.371")}
    assert terms["D012679"]["name"] == "Sense Organs"

    again = load_mesh(graph_db, desc_xml)
    assert (again.nodes_created, again.relationships_created) == (0, 0)
    assert graph_snapshot(graph_db) == (nodes, rels)


@pytest.mark.neo4j
def test_reloading_another_year_replaces_broader_edges(graph_db: GraphDB,
                                                       tmp_path: Path) -> None:
    old = tmp_path / "old.tsv"
    old.write_text("mesh_id\tmesh_name\tmesh_tree_number\nP\tParent\tA01\nQ\tOther\tB01\n"
                   "C\tChild\tA01.001\n")
    new = tmp_path / "new.tsv"
    new.write_text("mesh_id\tmesh_name\tmesh_tree_number\nP\tParent\tA01\nQ\tOther\tB01\n"
                   "C\tChild\tB01.001\n")
    load_mesh(graph_db, old)
    summary = load_mesh(graph_db, new)
    assert summary.relationships_deleted == 1
    _, rels = graph_snapshot(graph_db)
    assert {(a, b) for t, _, a, _, b, _ in rels if t == "BROADER"} == {("C", "Q")}
