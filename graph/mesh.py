"""Load the MeSH descriptor hierarchy: ``(:MeshTerm {ui, name, tree_numbers})`` and
``(narrower:MeshTerm)-[:BROADER]->(broader:MeshTerm)``.

Two inputs are read:

* a TSV with the columns ``mesh_id``, ``mesh_name``, ``mesh_tree_number`` (one row per tree
  number, e.g. dhimmel/mesh ``tree-numbers.tsv``);
* NLM's descriptor XML (``descYYYY.xml``, optionally gzipped): ``DescriptorRecord`` with
  ``DescriptorUI``, ``DescriptorName/String`` and ``TreeNumberList/TreeNumber``.

The parent of tree number ``A01.236.500`` is ``A01.236``; a descriptor with several tree
numbers can have several broader terms. Top-level tree numbers (``A01``) have none. The
hierarchy is optional: articles load without it.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import neo4j

from pubgraph.core.errors import InputError
from pubgraph.graph import queries as q
from pubgraph.graph.db import GraphDB

TSV_COLUMNS = ("mesh_id", "mesh_name", "mesh_tree_number")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A MeSH descriptor with its tree numbers (sorted, distinct)."""

    ui: str
    name: str | None
    tree_numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MeshLoadSummary:
    descriptors: int
    broader: int
    unresolved_parents: int
    nodes_created: int
    relationships_created: int
    relationships_deleted: int
    seconds: float


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def parse_tree_number_tsv(path: Path) -> list[Descriptor]:
    """Descriptors from a ``mesh_id / mesh_name / mesh_tree_number`` TSV."""
    import io

    grouped: dict[str, tuple[str | None, set[str]]] = {}
    with _open(path) as raw:
        reader = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"), delimiter="\t")
        missing = [c for c in TSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise InputError("not a MeSH tree-number TSV: missing column", file=str(path),
                             field=missing[0])
        for line_no, row in enumerate(reader, start=2):
            ui = (row["mesh_id"] or "").strip()
            if not ui:
                raise InputError(f"line {line_no}: empty mesh_id", file=str(path),
                                 field="mesh_id")
            name = (row["mesh_name"] or "").strip() or None
            tree = (row["mesh_tree_number"] or "").strip()
            prev_name, trees = grouped.setdefault(ui, (name, set()))
            if prev_name is None and name is not None:
                grouped[ui] = (name, trees)
            if tree:
                trees.add(tree)
    return [Descriptor(ui, name, tuple(sorted(trees))) for ui, (name, trees) in grouped.items()]


def parse_descriptor_record(element: Any) -> Descriptor | None:
    """One ``DescriptorRecord`` element (its own UI, not those of referred descriptors)."""
    ui = (element.findtext("DescriptorUI") or "").strip()
    if not ui:
        return None
    name = (element.findtext("DescriptorName/String") or "").strip() or None
    trees = sorted(
        {(t.text or "").strip() for t in element.findall("TreeNumberList/TreeNumber")} - {""}
    )
    return Descriptor(ui, name, tuple(trees))


def parse_descriptor_xml(path: Path) -> Iterator[Descriptor]:
    """Stream descriptors from NLM's ``descYYYY.xml`` (``iterparse`` + ``clear()``)."""
    from lxml import etree

    try:
        with _open(path) as raw:
            for _, element in etree.iterparse(raw, events=("end",), tag="DescriptorRecord"):
                descriptor = parse_descriptor_record(element)
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del element.getparent()[0]
                if descriptor is not None:
                    yield descriptor
    except etree.XMLSyntaxError as exc:
        raise InputError(f"bad XML: {exc}", file=str(path)) from None


def parse_mesh_file(path: str | Path) -> list[Descriptor]:
    """Descriptors from a TSV or a descriptor XML file (chosen by the file name)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".xml"):
        return list(parse_descriptor_xml(path))
    return parse_tree_number_tsv(path)


def parent_tree_number(tree_number: str) -> str | None:
    """``A01.236.500`` → ``A01.236``; a top-level tree number has no parent."""
    head, sep, _ = tree_number.rpartition(".")
    return head if sep else None


def transform_hierarchy(
    descriptors: Iterable[Descriptor],
) -> tuple[list[dict[str, Any]], list[dict[str, str]], int]:
    """``(term rows, BROADER rows, unresolved parents)``.

    A term row carries its distinct broader UIs in ``parents`` (used to drop stale edges).
    A parent tree number that no descriptor owns is counted as unresolved and skipped.
    """
    descriptors = sorted(descriptors, key=lambda d: d.ui)
    owner = {t: d.ui for d in descriptors for t in d.tree_numbers}
    terms: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    unresolved = 0
    for d in descriptors:
        parents: set[str] = set()
        for t in d.tree_numbers:
            parent = parent_tree_number(t)
            if parent is None:
                continue
            ui = owner.get(parent)
            if ui is None:
                unresolved += 1
            elif ui != d.ui:
                parents.add(ui)
        terms.append(
            {"ui": d.ui, "name": d.name, "tree_numbers": list(d.tree_numbers),
             "parents": sorted(parents)}
        )
        edges.extend({"ui": d.ui, "parent": p} for p in sorted(parents))
    return terms, edges, unresolved


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _write_terms(tx: neo4j.ManagedTransaction, rows: list[dict[str, Any]]) -> tuple[int, int]:
    created = tx.run(q.MERGE_MESH_DESCRIPTORS, rows=rows).consume().counters.nodes_created
    deleted = tx.run(q.DELETE_STALE_BROADER, rows=rows).consume().counters
    return created, deleted.relationships_deleted


def _write_edges(tx: neo4j.ManagedTransaction, rows: list[dict[str, str]]) -> int:
    return tx.run(q.LINK_BROADER, rows=rows).consume().counters.relationships_created


def load_mesh(
    driver: GraphDB,
    path: str | Path,
    *,
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> MeshLoadSummary:
    """Parse a MeSH file and MERGE the terms (with ``tree_numbers``) and BROADER edges.

    Terms are written before edges, so every edge finds both ends. Re-running is a no-op;
    loading another MeSH year replaces each listed term's broader set.
    """
    import time

    start = time.perf_counter()
    terms, edges, unresolved = transform_hierarchy(parse_mesh_file(path))
    nodes_created = rels_created = rels_deleted = 0
    with driver.session() as session:
        for chunk in _chunks(terms, batch_size):
            created, deleted = session.execute_write(_write_terms, chunk)
            nodes_created += created
            rels_deleted += deleted
            if on_progress:
                on_progress(len(chunk))
        for chunk in _chunks(edges, batch_size):
            rels_created += session.execute_write(_write_edges, chunk)
            if on_progress:
                on_progress(len(chunk))
    return MeshLoadSummary(
        descriptors=len(terms),
        broader=len(edges),
        unresolved_parents=unresolved,
        nodes_created=nodes_created,
        relationships_created=rels_created,
        relationships_deleted=rels_deleted,
        seconds=time.perf_counter() - start,
    )
