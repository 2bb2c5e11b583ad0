"""Resumable PubMed sync over E-utilities: search -> fetch -> parse -> Parquet.

The steps follow the get (network) / transform (pure) / load (disk) split and are
composed in :func:`sync_pubmed`:

1. ``plan_slices`` (get): count the query over its date range with esearch and halve the
   range until every slice holds at most 9,999 records (PubMed's esearch/history cap).
2. ``search_slice`` (get): esearch one slice on the history server (``usehistory=y``),
   keeping its PMIDs, WebEnv and query_key.
3. batches of efetch from the history server (``retstart``/``retmax``), parsed by
   :func:`ingest.pubmed.iter_pubmed`; ``transform_batch`` drops PMIDs already held.
4. with citations, ``get_links`` asks elink for each article's references
   (``pubmed_pubmed_refs``), citing articles (``pubmed_pubmed_citedin``) and, for articles
   in PMC, the PubMed records their PMC reference list cites (``pmc_refs_pubmed``);
   ``merge_references`` (pure) adds them as ``Reference(pmid=...)`` next to the XML ones.
5. ``write_output`` (load) streams the cached batches into one Parquet file of
   ``RECORD_SCHEMA`` rows, each PMID exactly once.

Everything a run learns is kept in a cache directory, so ``resume=True`` continues a run
that crashed, with no gap and no duplicate:

- ``manifest.json``: the watermark (options, slices with count / WebEnv / query_key / next
  ``retstart``, batches done with their files and counts), replaced atomically after
  every batch. A batch exists only once the manifest lists it; files of unlisted batches
  are leftovers of a crash and are written again.
- ``slices/sNNNN.json``: the PMIDs esearch listed for a slice.
- ``raw/bNNNNNN.xml.gz``: each efetch answer as received.
- ``parts/bNNNNNN.parquet``: the batch's parsed records (new PMIDs only).
- ``links/bNNNNNN.json``: the batch's elink answers.

Progress is tracked by PMID set, not only by offset: when the WebEnv has expired (the
history server forgets it after some hours) the slice is searched again and only the
PMIDs not yet held are fetched, by id.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pubgraph.core.errors import InputError
from pubgraph.ingest.eutils import (
    DEFAULT_BATCH_SIZE,
    ESEARCH_CAP,
    LINK_CITEDIN,
    LINK_PMC_REFS,
    LINK_REFS,
    EutilsClient,
    HistoryExpired,
    format_date,
)
from pubgraph.ingest.pubmed import SkipInfo, iter_pubmed
from pubgraph.ingest.records import Article, Deletion, Record, Reference
from pubgraph.ingest.writer import RecordWriter, from_row, read_records, write_records

__all__ = [
    "MANIFEST",
    "DateSlice",
    "SyncEvent",
    "SyncOptions",
    "SyncSummary",
    "get_links",
    "merge_references",
    "plan_slices",
    "search_slice",
    "sync_pubmed",
    "transform_batch",
    "write_output",
]

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
SKIP_MISSING = "not returned by efetch"
SKIP_DUPLICATE = "duplicate PMID"
SKIP_OVER_CAP = "over the 9,999-record cap within one day"
SKIP_UNPARSEABLE = "unparseable record"


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """What to fetch and where to keep it."""

    query: str
    mindate: date
    maxdate: date
    out: Path
    cache_dir: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    max_records: int | None = None
    with_citations: bool = False
    resume: bool = False
    datetype: str = "pdat"
    #: Records one esearch/history result set can serve (PubMed: 9,999).
    cap: int = ESEARCH_CAP

    def __post_init__(self) -> None:
        if self.mindate > self.maxdate:
            raise InputError(f"--from {self.mindate} is after --to {self.maxdate}")
        if self.batch_size < 1:
            raise InputError(f"batch size must be positive, got {self.batch_size}")
        if self.max_records is not None and self.max_records < 1:
            raise InputError(f"--max must be positive, got {self.max_records}")


@dataclass(frozen=True, slots=True)
class DateSlice:
    """A date range whose result set fits under the cap (unless it is a single day)."""

    mindate: date
    maxdate: date
    count: int


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """Progress report: ``kind`` is "planned" (``total`` known), "batch" or "links"."""

    kind: str
    done: int = 0
    total: int = 0
    batch: int = 0
    message: str = ""


@dataclass
class SyncSummary:
    """What a run produced (counted over the final Parquet file) and what it skipped."""

    out: Path
    articles: int = 0
    with_abstract: int = 0
    with_mesh: int = 0
    references: int = 0
    references_from_elink: int = 0
    citing_outside: int = 0
    deletions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    slices: int = 0
    batches: int = 0
    requests: int = 0
    retries: int = 0
    resumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.out)
        return d


# ----------------------------------------------------------------------------- planning


def plan_slices(
    client: EutilsClient,
    query: str,
    mindate: date,
    maxdate: date,
    *,
    cap: int = ESEARCH_CAP,
    datetype: str = "pdat",
) -> list[DateSlice]:
    """Date slices covering [mindate, maxdate] without gap or overlap, each <= ``cap``.

    A range over the cap is split in halves, recursively; a single day cannot be split
    further and is kept whole (the sync fetches its first ``cap`` records and reports the
    rest as skipped). Empty ranges are dropped.
    """
    out: list[DateSlice] = []

    def visit(lo: date, hi: date) -> None:
        n = client.esearch(
            query, mindate=lo, maxdate=hi, datetype=datetype, usehistory=False, retmax=0,
            label=f"count {format_date(lo)}-{format_date(hi)}",
        ).count
        if n == 0:
            return
        if n <= cap or lo == hi:
            out.append(DateSlice(lo, hi, n))
            return
        mid = lo + timedelta(days=(hi - lo).days // 2)
        visit(lo, mid)
        visit(mid + timedelta(days=1), hi)

    visit(mindate, maxdate)
    return out


def search_slice(
    client: EutilsClient, query: str, s: DateSlice, *, cap: int = ESEARCH_CAP,
    datetype: str = "pdat",
) -> tuple[list[str], str | None, str | None, int]:
    """esearch one slice on the history server: (PMIDs, WebEnv, query_key, count)."""
    r = client.esearch(
        query, mindate=s.mindate, maxdate=s.maxdate, datetype=datetype, usehistory=True,
        retmax=cap, label=f"slice {format_date(s.mindate)}-{format_date(s.maxdate)}",
    )
    return list(dict.fromkeys(r.ids)), r.webenv, r.query_key, r.count


# ----------------------------------------------------------------------------- transform


def transform_batch(
    records: Iterable[Record], held: set[str]
) -> tuple[list[Record], list[str]]:
    """Split parsed records into the new ones and the PMIDs already held (duplicates).

    ``held`` is not modified.
    """
    new: list[Record] = []
    dups: list[str] = []
    seen: set[str] = set()
    for rec in records:
        if rec.pmid in held or rec.pmid in seen:
            dups.append(rec.pmid)
            continue
        seen.add(rec.pmid)
        new.append(rec)
    return new, dups


def merge_references(article: Article, extra_pmids: Iterable[str]) -> tuple[Article, int]:
    """The article with ``Reference(pmid=x)`` added for each linked PMID not yet listed.

    Returns the article and how many references were added. The XML references stay first
    and untouched; a PMID appears once; the article's own PMID is never added.
    """
    present = {r.pmid for r in article.references if r.pmid}
    extra = [
        Reference(pmid=p)
        for p in dict.fromkeys(extra_pmids)
        if p and p != article.pmid and p not in present
    ]
    if not extra:
        return article, 0
    return replace(article, references=article.references + tuple(extra)), len(extra)


# ----------------------------------------------------------------------------- network


def get_links(
    client: EutilsClient, articles: Sequence[tuple[str, str | None]], *, label: str = ""
) -> dict[str, dict[str, list[str]]]:
    """elink for (pmid, pmcid) pairs: {"refs"|"citedin"|"pmc_refs": {pmid: [pmids]}}."""
    pmids = [p for p, _ in articles]
    out: dict[str, dict[str, list[str]]] = {
        "refs": client.elink(pmids, linkname=LINK_REFS, label=f"{label} refs"),
        "citedin": client.elink(pmids, linkname=LINK_CITEDIN, label=f"{label} citedin"),
        "pmc_refs": {},
    }
    by_pmc = {
        pmc.upper().removeprefix("PMC"): pmid for pmid, pmc in articles if pmc
    }
    if by_pmc:
        pmc_links = client.elink(
            list(by_pmc), linkname=LINK_PMC_REFS, dbfrom="pmc", label=f"{label} pmc refs"
        )
        out["pmc_refs"] = {by_pmc[k]: v for k, v in pmc_links.items() if k in by_pmc}
    return out


# ----------------------------------------------------------------------------- cache


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_json(path: Path, obj: Any) -> None:
    _atomic_write(path, json.dumps(obj, indent=1, sort_keys=True).encode())


class _Cache:
    """The cache directory and its manifest (the watermark)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest_path = root / MANIFEST

    def path(self, rel: str) -> Path:
        return self.root / rel

    def load(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        try:
            manifest: dict[str, Any] = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(
                f"unreadable manifest: {exc}", file=str(self.manifest_path)
            ) from None
        if manifest.get("version") != MANIFEST_VERSION:
            raise InputError("manifest of another version", file=str(self.manifest_path))
        return manifest

    def save(self, manifest: dict[str, Any]) -> None:
        _atomic_json(self.manifest_path, manifest)


def _new_manifest(o: SyncOptions) -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "query": o.query,
        "mindate": o.mindate.isoformat(),
        "maxdate": o.maxdate.isoformat(),
        "datetype": o.datetype,
        "cap": o.cap,
        "slices": None,
        "batches": [],
        "given_up": [],  # PMIDs not served or unparseable: not asked again
        "skipped": {},
        "finished": False,
    }


def _check_same_run(manifest: dict[str, Any], o: SyncOptions, path: Path) -> None:
    want = {
        "query": o.query,
        "mindate": o.mindate.isoformat(),
        "maxdate": o.maxdate.isoformat(),
        "datetype": o.datetype,
        "cap": o.cap,
    }
    for key, value in want.items():
        if manifest.get(key) != value:
            raise InputError(
                f"the cache holds another run ({key} {manifest.get(key)!r}, asked {value!r}); "
                "use another cache directory",
                file=str(path),
            )


def _held_pmids(cache: _Cache, manifest: dict[str, Any]) -> set[str]:
    held: set[str] = set()
    for b in manifest["batches"]:
        if b.get("part"):
            table = pq.read_table(cache.path(b["part"]), columns=["pmid"])
            held.update(str(p) for p in table.column("pmid").to_pylist())
    return held


# ----------------------------------------------------------------------------- load


def _parse_body(raw_path: Path) -> tuple[list[Record], list[tuple[str | None, str]]]:
    """Parse a cached efetch answer with the project's PubMed parser.

    Returns the records and, for each record the parser had to skip, its PMID (when the
    parser could tell it) and the reason.
    """
    bad: list[tuple[str | None, str]] = []

    def on_skip(info: SkipInfo) -> None:
        record = info.record or ""
        bad.append((record if record.isdigit() else None, info.reason))

    return list(iter_pubmed(raw_path, skip_bad=True, on_skip=on_skip)), bad


def _write_part(path: Path, records: Sequence[Record], source_file: str) -> None:
    write_records(records, path, source_file=source_file)


def write_output(
    out: Path,
    parts: Sequence[Path],
    links: Mapping[str, Mapping[str, Sequence[str]]] | None,
) -> SyncSummary:
    """Stream the cached parts into ``out``, each PMID once, elink references merged.

    ``links`` is {"refs"|"citedin"|"pmc_refs": {pmid: [pmids]}} over the whole run, or
    None to keep the XML references only. A citing article outside the parts cannot carry
    the reference (it has no record here); those links are counted, not written.
    """
    summary = SyncSummary(out=out)
    extra: dict[str, list[str]] = {}
    if links:
        held: set[str] = set()
        for part in parts:
            pmids = pq.read_table(part, columns=["pmid"]).column("pmid").to_pylist()
            held.update(str(p) for p in pmids)
        for kind in ("refs", "pmc_refs"):
            for pmid, cited in links.get(kind, {}).items():
                extra.setdefault(pmid, []).extend(cited)
        for cited_pmid, citing in links.get("citedin", {}).items():
            for c in citing:
                if c in held:
                    extra.setdefault(c, []).append(cited_pmid)
                else:
                    summary.citing_outside += 1

    written: set[str] = set()
    with RecordWriter(out) as writer:
        for part in parts:
            for row in read_records(part):
                record = from_row(row)
                if record.pmid in written:
                    continue
                written.add(record.pmid)
                if isinstance(record, Deletion):
                    summary.deletions += 1
                else:
                    record, added = merge_references(record, extra.get(record.pmid, ()))
                    summary.articles += 1
                    summary.with_abstract += bool(record.abstract)
                    summary.with_mesh += bool(record.mesh)
                    summary.references += len(record.references)
                    summary.references_from_elink += added
                writer.write(record, row["source_file"])
    return summary


# ----------------------------------------------------------------------------- sync


class _Run:
    """One sync run over a cache directory (see the module docstring)."""

    def __init__(
        self,
        client: EutilsClient,
        o: SyncOptions,
        progress: Callable[[SyncEvent], None] | None,
        after_batch: Callable[[int], None] | None,
    ) -> None:
        self.client = client
        self.o = o
        self.progress = progress or (lambda e: None)
        self.after_batch = after_batch or (lambda n: None)
        self.cache = _Cache(o.cache_dir)
        existing = self.cache.load()
        if existing is not None and not o.resume:
            raise InputError(
                "the cache directory holds an earlier run; pass --resume to continue it, "
                "or choose another --cache",
                file=str(self.cache.manifest_path),
            )
        if existing is not None:
            _check_same_run(existing, o, self.cache.manifest_path)
        self.resumed = existing is not None
        self.m: dict[str, Any] = existing or _new_manifest(o)
        self.held = _held_pmids(self.cache, self.m)
        self.given_up: set[str] = set(self.m["given_up"])
        self.skipped: Counter[str] = Counter(self.m["skipped"])
        self.articles = sum(int(b["articles"]) for b in self.m["batches"])

    # -- helpers ---------------------------------------------------------------------

    def save(self) -> None:
        self.m["given_up"] = sorted(self.given_up)
        self.m["skipped"] = dict(self.skipped)
        self.cache.save(self.m)

    def budget(self) -> int | None:
        if self.o.max_records is None:
            return None
        return max(0, self.o.max_records - self.articles)

    # -- steps -----------------------------------------------------------------------

    def plan(self) -> None:
        if self.m["slices"] is None:
            slices = plan_slices(
                self.client, self.o.query, self.o.mindate, self.o.maxdate,
                cap=self.o.cap, datetype=self.o.datetype,
            )
            self.m["slices"] = [
                {
                    "mindate": s.mindate.isoformat(),
                    "maxdate": s.maxdate.isoformat(),
                    "count": s.count,
                    "ids": None,
                    "webenv": None,
                    "query_key": None,
                    "next_retstart": 0,
                    "mode": "history",
                    "complete": False,
                }
                for s in slices
            ]
            self.save()
        total = sum(min(s["count"], self.o.cap) for s in self.m["slices"])
        if self.o.max_records is not None:
            total = min(total, self.o.max_records)
        self.progress(SyncEvent("planned", done=self.articles, total=total))

    def search(self, idx: int, s: dict[str, Any]) -> list[str]:
        ds = DateSlice(date.fromisoformat(s["mindate"]), date.fromisoformat(s["maxdate"]), 0)
        ids, webenv, query_key, count = search_slice(
            self.client, self.o.query, ds, cap=self.o.cap, datetype=self.o.datetype
        )
        rel = f"slices/s{idx:04d}.json"
        _atomic_json(self.cache.path(rel), ids)
        s.update(ids=rel, webenv=webenv, query_key=query_key, count=count)
        return ids

    def fetch_slice(self, idx: int, s: dict[str, Any]) -> bool:
        """Fetch a slice to completion; False when ``max_records`` stopped it."""
        if s["ids"] is None:
            ids = self.search(idx, s)
            s.update(next_retstart=0, mode="history")
            if s["count"] > self.o.cap:  # one day over the cap: esearch lists only the first
                self.skipped[SKIP_OVER_CAP] += s["count"] - self.o.cap
            self.save()
        else:
            ids = json.loads(self.cache.path(s["ids"]).read_text())
        while True:
            budget = self.budget()
            if budget == 0:
                return False
            size = self.o.batch_size if budget is None else min(self.o.batch_size, budget)
            remaining = [i for i in ids if i not in self.held and i not in self.given_up]
            if not remaining:
                s["complete"] = True
                self.save()
                return True
            by_history = (
                s["mode"] == "history" and bool(s["webenv"]) and s["next_retstart"] < len(ids)
            )
            start = s["next_retstart"]
            label = f"slice {s['mindate']}..{s['maxdate']}, batch {len(self.m['batches'])}"
            try:
                if by_history:
                    # Never past the listed ids: a history set may serve more than the cap
                    # let esearch list, and those would be counted as skipped already.
                    size = min(size, len(ids) - start)
                    asked = ids[start : start + size]
                    body = self.client.efetch_pubmed(
                        webenv=s["webenv"], query_key=s["query_key"], retstart=start,
                        retmax=size, label=f"{label}, retstart {start}, retmax {size}",
                    )
                else:
                    asked = remaining[:size]
                    body = self.client.efetch_pubmed(
                        ids=asked, label=f"{label}, ids {asked[0]}..{asked[-1]} ({len(asked)})"
                    )
            except HistoryExpired:
                # A new search gives a new WebEnv whose offsets say nothing about what is
                # held: go on by PMID set, fetching by id what is not held yet.
                ids = self.search(idx, s)
                s["mode"] = "ids"
                self.save()
                continue
            self.store_batch(idx, body, asked, by_history)
            if by_history:
                s["next_retstart"] = start + size
                if s["next_retstart"] >= len(ids):
                    s["mode"] = "ids"  # leftovers (if any) are fetched by id
            self.save()
            self.after_batch(len(self.m["batches"]))

    def store_batch(self, idx: int, body: bytes, asked: Sequence[str], by_history: bool) -> None:
        n = len(self.m["batches"])
        raw_rel, part_rel = f"raw/b{n:06d}.xml.gz", f"parts/b{n:06d}.parquet"
        raw_path = self.cache.path(raw_rel)
        _atomic_write(raw_path, gzip.compress(body, compresslevel=5))
        skipped: Counter[str] = Counter()
        records, bad = _parse_body(raw_path)
        new, dups = transform_batch(records, self.held)
        budget = self.budget()
        if budget is not None:
            articles = [r for r in new if isinstance(r, Article)][:budget]
            keep = {id(r) for r in articles}
            new = [r for r in new if isinstance(r, Deletion) or id(r) in keep]
        skipped[SKIP_DUPLICATE] += len(dups)
        # A record the parser rejects is given up on, not fetched again. Without a PMID it
        # is only counted when asked by id (a history batch's leftovers are asked by id).
        known_bad = {pmid for pmid, _ in bad if pmid}
        self.given_up.update(known_bad)
        for pmid, reason in bad:
            if pmid or not by_history:
                skipped[f"{SKIP_UNPARSEABLE}: {reason}"] += 1
        if not by_history:
            # Asked by id and not served: PubMed has no such record (any more).
            got = {r.pmid for r in records}
            lost = [i for i in asked if i not in got and i not in known_bad]
            self.given_up.update(lost)
            skipped[SKIP_MISSING] += max(0, len(lost) - sum(1 for p, _ in bad if not p))
        _write_part(self.cache.path(part_rel), new, str(raw_path))
        links_rel = None
        if self.o.with_citations:
            links_rel = self.fetch_links(n, new)
        n_articles = sum(isinstance(r, Article) for r in new)
        self.held.update(r.pmid for r in new)
        self.articles += n_articles
        self.skipped.update({k: v for k, v in skipped.items() if v})
        self.m["batches"].append(
            {
                "n": n,
                "slice": idx,
                "by": "history" if by_history else "ids",
                "asked": len(asked),
                "articles": n_articles,
                "deletions": len(new) - n_articles,
                "duplicates": len(dups),
                "raw": raw_rel,
                "part": part_rel,
                "links": links_rel,
            }
        )
        self.progress(SyncEvent("batch", done=self.articles, batch=n))

    def fetch_links(self, n: int, records: Sequence[Record]) -> str:
        pairs = [(r.pmid, r.pmcid) for r in records if isinstance(r, Article)]
        links = get_links(self.client, pairs, label=f"batch {n}") if pairs else {}
        rel = f"links/b{n:06d}.json"
        _atomic_json(self.cache.path(rel), links)
        return rel

    def links_pass(self) -> None:
        """Links for batches fetched without ``--with-citations`` (an earlier run)."""
        for b in self.m["batches"]:
            if b.get("links"):
                continue
            table = pq.read_table(
                self.cache.path(b["part"]), columns=["record_type", "pmid", "pmcid"]
            ).to_pylist()
            pairs = [(r["pmid"], r["pmcid"]) for r in table if r["record_type"] == "article"]
            links = get_links(self.client, pairs, label=f"batch {b['n']}") if pairs else {}
            rel = f"links/b{b['n']:06d}.json"
            _atomic_json(self.cache.path(rel), links)
            b["links"] = rel
            self.save()
            self.progress(SyncEvent("links", batch=b["n"]))

    def all_links(self) -> dict[str, dict[str, list[str]]]:
        merged: dict[str, dict[str, list[str]]] = {"refs": {}, "citedin": {}, "pmc_refs": {}}
        for b in self.m["batches"]:
            if not b.get("links"):
                continue
            data = json.loads(self.cache.path(b["links"]).read_text())
            for kind, table in data.items():
                for pmid, linked in table.items():
                    merged.setdefault(kind, {}).setdefault(pmid, []).extend(linked)
        return merged

    def run(self) -> SyncSummary:
        self.plan()
        for idx, s in enumerate(self.m["slices"]):
            if s["complete"]:
                continue
            if not self.fetch_slice(idx, s):
                break
        if self.o.with_citations:
            self.links_pass()
        parts = [self.cache.path(b["part"]) for b in self.m["batches"]]
        summary = write_output(
            self.o.out, parts, self.all_links() if self.o.with_citations else None
        )
        summary.skipped = dict(self.skipped)
        summary.slices = len(self.m["slices"])
        summary.batches = len(self.m["batches"])
        summary.requests = self.client.requests
        summary.retries = self.client.retries
        summary.resumed = self.resumed
        self.m["finished"] = True
        self.m["summary"] = summary.as_dict()
        self.save()
        return summary


def sync_pubmed(
    client: EutilsClient,
    options: SyncOptions,
    *,
    progress: Callable[[SyncEvent], None] | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> SyncSummary:
    """Run (or, with ``options.resume``, continue) a PubMed sync; see the module docstring.

    ``progress`` receives :class:`SyncEvent`s; ``after_batch(n)`` is called once batch ``n``
    is safely in the cache (tests raise from it to simulate a crash).
    """
    return _Run(client, options, progress, after_batch).run()
