"""A seeded, documented slice of a records file that keeps the corpus's shape.

``pubgraph demo --size tiny|small`` runs on a few hundred or a few thousand articles instead
of the ~51k of the sample corpus. A uniform sample would lose what pubgraph is about: most
articles of the 1977-79 baseline file have no reference list, and two random articles rarely
cite each other. The slice is chosen so that it still

* **spans both eras**: the quota is split evenly between the source files (one per era:
  pubmed20n0014 is 1977-79, pubmed21n1298 is 2020-21); a file with too few candidates
  leaves its rest to the others;
* **keeps citation structure**: inside each file, articles are taken in priority order,
  (0) articles that cite, or are cited by, another article of the corpus, (1) articles with a
  reference list (their references become stub articles, which gives bibliographic
  coupling and co-citation pairs), (2) articles with an abstract, (3) the rest with a title;
  when an article is taken, the corpus articles it cites are taken with it (while the quota
  lasts), so in-corpus CITES edges survive;
* **has text to embed**: inside a priority class, articles with an abstract come first;
* **is reproducible**: ties inside a priority class are broken by a seeded hash of the PMID,
  so the same seed on the same files gives the same slice, and a larger size contains
  most of a smaller one's priority-0 articles.

Deletion records are kept for the PMIDs of the slice only (the others delete nothing in it).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pubgraph.core.errors import ConfigError, InputError

SLICE_COLUMNS = ("record_type", "pmid", "title", "abstract", "references", "source_file")


@dataclass(frozen=True)
class Candidate:
    """What the selection needs to know of one article."""

    pmid: str
    source: str
    has_abstract: bool
    references: tuple[str, ...] = ()


@dataclass
class SliceReport:
    """What was taken, per source file and priority class: written beside the slice."""

    size: int
    seed: int
    selected: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)
    in_slice_citations: int = 0
    deletions_kept: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PRIORITY_NAMES = ("cites or cited in corpus", "reference list", "abstract", "title only")


def seeded_key(seed: int, pmid: str) -> str:
    """The tie-breaking order inside a priority class (stable across runs and machines)."""
    return hashlib.sha1(f"{seed}:{pmid}".encode()).hexdigest()


def priorities(candidates: Sequence[Candidate]) -> dict[str, int]:
    """PMID -> priority class (0 best) as the module docstring describes."""
    known = {c.pmid for c in candidates}
    linked: set[str] = set()
    for c in candidates:
        inside = [r for r in c.references if r in known and r != c.pmid]
        if inside:
            linked.add(c.pmid)
            linked.update(inside)
    out: dict[str, int] = {}
    for c in candidates:
        if c.pmid in linked:
            out[c.pmid] = 0
        elif c.references:
            out[c.pmid] = 1
        elif c.has_abstract:
            out[c.pmid] = 2
        else:
            out[c.pmid] = 3
    return out


def select_slice(
    candidates: Sequence[Candidate], size: int, seed: int
) -> tuple[list[str], SliceReport]:
    """The PMIDs of the slice (in selection order) and its report.

    ``size`` is the number of articles wanted (all of them when there are fewer).
    """
    if size < 1:
        raise ConfigError(f"slice size must be >= 1, not {size}", "--size")
    report = SliceReport(size=size, seed=seed)
    prio = priorities(candidates)
    by_pmid = {c.pmid: c for c in candidates}
    sources: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        sources[c.source].append(c)
    for items in sources.values():
        items.sort(key=lambda c: (prio[c.pmid], not c.has_abstract, seeded_key(seed, c.pmid)))
    chosen: list[str] = []
    taken: set[str] = set()

    def take(pmid: str) -> None:
        taken.add(pmid)
        chosen.append(pmid)
        src = by_pmid[pmid].source
        report.by_source[src] = report.by_source.get(src, 0) + 1
        name = PRIORITY_NAMES[prio[pmid]]
        report.by_priority[name] = report.by_priority.get(name, 0) + 1

    # Even quotas per source; what one source cannot fill passes to the next ones.
    names = sorted(sources)
    remaining = min(size, len(candidates))
    for i, src in enumerate(names):
        quota = -(-remaining // (len(names) - i))  # ceil: the earlier files get the odd one
        start = len(chosen)
        for c in sources[src]:
            if len(chosen) - start >= quota:
                break
            if c.pmid in taken:
                continue
            take(c.pmid)
            for ref in sorted(set(c.references), key=lambda r: seeded_key(seed, r)):
                if len(chosen) - start >= quota:
                    break
                if ref in by_pmid and ref not in taken:
                    take(ref)
        remaining -= len(chosen) - start
    report.selected = len(chosen)
    report.in_slice_citations = in_slice_citations(by_pmid, chosen)
    return chosen, report


def in_slice_citations(by_pmid: Mapping[str, Candidate], chosen: Iterable[str]) -> int:
    """Distinct (citing, cited) pairs with both articles among ``chosen``."""
    taken = set(chosen)
    return sum(1 for p in taken for r in set(by_pmid[p].references) if r in taken and r != p)


def candidates_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Candidate]:
    """One candidate per article PMID with a title or an abstract (the last version wins,
    as in the graph, where an update file replaces the baseline's record)."""
    latest: dict[str, Candidate] = {}
    for r in rows:
        if r.get("record_type") != "article" or not r.get("pmid"):
            continue
        if not (r.get("title") or r.get("abstract")):
            continue
        refs = tuple(
            str(x["pmid"]) for x in (r.get("references") or ()) if x and x.get("pmid")
        )
        latest[str(r["pmid"])] = Candidate(
            pmid=str(r["pmid"]),
            source=Path(str(r.get("source_file") or "")).name,
            has_abstract=bool(r.get("abstract")),
            references=refs,
        )
    return list(latest.values())


def write_slice(
    records: Path, out: Path, size: int | None, seed: int
) -> SliceReport:
    """Write the slice of ``records`` (a records Parquet file) to ``out``; ``size`` None
    copies every row. Writes ``out`` atomically and ``<out stem>.slice.json`` beside it."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not records.is_file():
        raise InputError(f"{records}: records file not found (`pubgraph ingest files`)")
    table = pq.read_table(records)
    missing = [c for c in SLICE_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"{records}: not a records file (missing columns {', '.join(missing)})")
    cands = candidates_from_rows(table.select(list(SLICE_COLUMNS)).to_pylist())
    if size is None:
        pmids = [c.pmid for c in cands]
        report = SliceReport(size=len(pmids), seed=seed, selected=len(pmids))
        report.by_source = dict(sorted(_count(c.source for c in cands).items()))
        report.in_slice_citations = in_slice_citations({c.pmid: c for c in cands}, pmids)
        keep = table
    else:
        pmids, report = select_slice(cands, size, seed)
        wanted = pa.array(sorted(set(pmids)), type=pa.string())
        keep = table.filter(pc.is_in(table["pmid"], value_set=wanted))
    report.deletions_kept = int(
        pc.sum(pc.equal(keep["record_type"], "deletion")).as_py() or 0
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    pq.write_table(keep, tmp)
    tmp.replace(out)
    out.with_suffix(".slice.json").write_text(json.dumps(report.as_dict(), indent=2))
    return report


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out
