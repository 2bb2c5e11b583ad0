"""Load an external citation edge list (no text) as stub Articles and CITES edges.

The format is LINQS/Planetoid's ``.cites.tab`` (e.g. Pubmed-Diabetes): header lines start
with ``#`` (``#DIRECTED\tcites``, ``#NO_FEATURES``), then one edge per line::

    <edge id> \t paper:<PMID> \t | \t paper:<PMID>

The left paper cites the right one. (Checked on ``pubmed_diabetes.cites.tab``: in 39,719 of
44,338 edges the left PMID is the larger, i.e. the newer, paper.) Plain two-column lists
(``citing<TAB>cited`` or ``citing,cited``) are read too.

Edges get ``source = <name>`` when this loader creates them, so an article record's own
reference list never replaces them (see ``DELETE_STALE_CITES``). Self-citations are skipped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j

from pubgraph.core.errors import InputError
from pubgraph.graph import queries as q
from pubgraph.graph.db import GraphDB

_TOKEN = re.compile(r"^(?:paper:)?(\d+)$")


@dataclass(frozen=True, slots=True)
class EdgeLoadSummary:
    edges: int
    self_loops_skipped: int
    duplicates_skipped: int
    articles: int
    stubs_created: int
    relationships_created: int
    seconds: float


def parse_edge_line(line: str) -> tuple[str, str] | None:
    """``(citing, cited)`` PMIDs from one line; None for a header or blank line.

    Raises ValueError for a line that is neither.
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = [p for p in re.split(r"[\t,| ]+", text) if p]
    if len(parts) == 3:  # <edge id> paper:A paper:B
        parts = parts[1:]
    if len(parts) != 2:
        raise ValueError(f"expected 'paper:<PMID> | paper:<PMID>', got {text[:80]!r}")
    ids = []
    for token in parts:
        m = _TOKEN.match(token)
        if m is None:
            raise ValueError(f"not a PMID token: {token!r}")
        ids.append(str(int(m.group(1))))
    return ids[0], ids[1]


def parse_edge_list(path: str | Path) -> tuple[list[tuple[str, str]], int, int]:
    """``(edges, self-loops skipped, duplicates skipped)``; edges keep file order."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", file=str(path))
    seen: dict[tuple[str, str], None] = {}
    loops = dups = 0
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            try:
                edge = parse_edge_line(line)
            except ValueError as exc:
                raise InputError(f"line {line_no}: {exc}", file=str(path)) from None
            if edge is None:
                continue
            if edge[0] == edge[1]:
                loops += 1
            elif edge in seen:
                dups += 1
            else:
                seen[edge] = None
    return list(seen), loops, dups


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _write(
    tx: neo4j.ManagedTransaction, pmids: list[str], rows: list[dict[str, str]], source: str
) -> tuple[int, int]:
    stubs = tx.run(q.MERGE_STUBS, pmids=pmids).consume().counters.nodes_created
    rels = tx.run(q.LOAD_EDGE_LIST, rows=rows, source=source).consume().counters
    return stubs, rels.relationships_created


def load_edge_list(
    driver: GraphDB,
    path: str | Path,
    *,
    source: str | None = None,
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> EdgeLoadSummary:
    """MERGE the edge list: stub Articles for unknown PMIDs, then ``CITES {source}``.

    ``source`` defaults to the file name without its suffixes (``pubmed_diabetes``).
    Idempotent: re-running creates nothing.
    """
    start = time.perf_counter()
    path = Path(path)
    name = source or path.name.split(".")[0]
    edges, loops, dups = parse_edge_list(path)
    stubs = created = 0
    articles: set[str] = set()
    with driver.session() as session:
        for chunk in _chunks(edges, batch_size):
            pmids = sorted({p for e in chunk for p in e}, key=lambda p: (len(p), p))
            articles.update(pmids)
            rows = [{"src": a, "dst": b} for a, b in chunk]
            s, r = session.execute_write(_write, pmids, rows, name)
            stubs += s
            created += r
            if on_progress:
                on_progress(len(chunk))
    return EdgeLoadSummary(
        edges=len(edges),
        self_loops_skipped=loops,
        duplicates_skipped=dups,
        articles=len(articles),
        stubs_created=stubs,
        relationships_created=created,
        seconds=time.perf_counter() - start,
    )
