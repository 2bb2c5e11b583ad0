"""A graph's fingerprint: what two runs must agree on to have built "the same graph".

Unlike :func:`pubgraph.graph.stats.graph_snapshot` (sets of tuples, for small test graphs),
the fingerprint is a handful of counts and SHA-256 digests, and it sees duplicates: two
identical ``CITES`` between the same articles hash differently from one, and
:func:`duplicate_relationships` counts them. ``pubgraph graph check`` prints it; the
reliability suite compares a killed-and-resumed run's fingerprint with an uninterrupted
run's.

Left out of the digests, because they differ between equal runs: properties that hold a
time (``created``, ``updated``: see :data:`VOLATILE_PROPERTIES`) and vectors (lists of
floats of length >= :data:`VECTOR_MIN_LENGTH`: an embedding computed in a different batch
differs in the last bits). Vectors are counted per property name instead; compare their
values with a tolerance where it matters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import neo4j

from pubgraph.graph import queries as q
from pubgraph.graph.db import GraphDB

#: Properties that record when something ran, not what it built.
VOLATILE_PROPERTIES: frozenset[str] = frozenset({"created", "updated", "_lock"})
#: Per label, run records whose timings and output paths differ between equal runs (a
#: PairRun's pairs are compared as files; its id already hashes graph, seed and params).
VOLATILE_BY_LABEL: dict[str, frozenset[str]] = {
    "PairRun": frozenset({"counts", "duration", "out"}),
}
#: A list of at least this many floats is a vector (counted, not hashed).
VECTOR_MIN_LENGTH = 8


@dataclass(frozen=True)
class GraphFingerprint:
    """Counts and digests of a graph (see the module docstring for what is left out)."""

    nodes_by_label: dict[str, int]
    relationships_by_type: dict[str, int]
    #: SHA-256 over every Article's properties, in PMID order.
    articles: str
    #: SHA-256 over the sorted (citing, cited) PMID pairs; duplicates count.
    cites: str
    #: SHA-256 over every relationship (type, end keys, properties), sorted; duplicates count.
    relationships: str
    #: SHA-256 over every node that is not an Article (labels, properties), sorted.
    other_nodes: str
    #: Relationships beyond the first of the same type between the same two nodes.
    duplicate_relationships: int
    #: Nodes carrying each vector property.
    vectors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return asdict(self)

    def differences(self, other: GraphFingerprint) -> dict[str, tuple[Any, Any]]:
        """The fields whose values differ, as ``{name: (self's, other's)}``."""
        mine, theirs = self.as_dict(), other.as_dict()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


def _is_vector(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= VECTOR_MIN_LENGTH
        and all(isinstance(v, float) for v in value[:VECTOR_MIN_LENGTH])
    )


def _stable(props: dict[str, Any], vectors: dict[str, int],
            labels: list[str] | None = None) -> str:
    """The properties as canonical JSON, without volatile ones and vectors (counted)."""
    volatile = VOLATILE_PROPERTIES.union(*(VOLATILE_BY_LABEL.get(x, ()) for x in labels or ()))
    kept: dict[str, Any] = {}
    for key, value in props.items():
        if key in volatile:
            continue
        if _is_vector(value):
            vectors[key] = vectors.get(key, 0) + 1
            continue
        kept[key] = value
    return json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)


def _digest(lines: list[str]) -> str:
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def duplicate_relationships(driver: GraphDB) -> dict[str, int]:
    """Per relationship type, the relationships beyond the first between the same two nodes
    (pubgraph never writes parallel relationships of one type: any is a duplicate)."""
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        return {r["type"]: int(r["extra"]) for r in s.run(q.COUNT_DUPLICATE_RELATIONSHIPS)}


def graph_fingerprint(driver: GraphDB) -> GraphFingerprint:
    """Read the whole graph once and fingerprint it (a few seconds per 100k relationships)."""
    vectors: dict[str, int] = {}
    labels: dict[str, int] = {}
    types: dict[str, int] = {}
    article_lines: list[str] = []
    other_lines: list[str] = []
    rel_lines: list[str] = []
    cite_lines: list[str] = []
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as s:
        for r in s.run(q.DUMP_NODES):
            node_labels = sorted(r["labels"])
            for label in node_labels:
                labels[label] = labels.get(label, 0) + 1
            props = _stable(dict(r["props"]), vectors, node_labels)
            if "Article" in node_labels:
                article_lines.append(f"{':'.join(node_labels)}\t{props}")
            else:
                other_lines.append(f"{':'.join(node_labels)}\t{props}")
        for r in s.run(q.DUMP_RELATIONSHIPS):
            kind = r["type"]
            types[kind] = types.get(kind, 0) + 1
            a, b = str(r["a_key"]), str(r["b_key"])
            rel_lines.append(f"{kind}\t{a}\t{b}\t{_stable(dict(r['props']), vectors)}")
            if kind == "CITES":
                cite_lines.append(f"{a}\t{b}")
    duplicates = duplicate_relationships(driver)
    return GraphFingerprint(
        nodes_by_label=dict(sorted(labels.items())),
        relationships_by_type=dict(sorted(types.items())),
        articles=_digest(article_lines),
        cites=_digest(cite_lines),
        relationships=_digest(rel_lines),
        other_nodes=_digest(other_lines),
        duplicate_relationships=sum(duplicates.values()),
        vectors=dict(sorted(vectors.items())),
    )
