"""Load article records (RECORD_SCHEMA rows) into Neo4j: batched, idempotent, restartable.

Pure ``transform_*`` functions turn a batch of rows into the parameters of the statements
in ``graph/queries.py``; ``GraphLoader`` writes one batch per managed transaction
(``session.execute_write``: the driver retries transient failures, and a batch is all or
nothing). Rows are read by column name; this package never imports ``ingest``.

A PMID in two files: the file loaded last wins (its row replaces the article's properties
and outgoing relationships); ``LoadSummary.replaced_from_other_file`` counts such
replacements, so a load that overwrites another file's articles says so.

Concurrency: each batch first locks its articles (``LOCK_ARTICLES``), so two loads of the
same rows at once serialise per batch and end in the graph of one load.

Idempotence: every node is ``MERGE``d on its unique key and ``SET`` to the full new state;
an article that already had outgoing relationships gets its ``HAS_MESH``, ``AUTHORED_BY``,
``PUBLISHED_IN`` and ``CITES`` replaced by the new set (stale ones deleted, the others
``MERGE``d); an article that had none gets them ``CREATE``d, which is exact because the
batch is one transaction. Loading the same rows twice, or re-running a load that was killed
half-way, ends in the same graph.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import neo4j

from pubgraph.core.contracts import RECORD_COLUMNS
from pubgraph.core.errors import InputError
from pubgraph.graph import queries as q
from pubgraph.graph.db import CONNECTION_ERRORS, GraphDB, connection_lost

#: Article node properties written from a record (``stub`` and ``deleted`` are set apart).
ARTICLE_PROPERTIES: tuple[str, ...] = (
    "title",
    "abstract",
    "year",
    "pub_date",
    "medline_date",
    "doi",
    "pmcid",
    "language",
    "publication_types",
    "keywords",
    "journal_id",
    "source",
    "source_file",
)

#: Record columns the loader does not read (kept in the Parquet file for other uses).
NOT_LOADED: frozenset[str] = frozenset({"abstract_sections", "month", "day", "chemicals", "body"})
#: The record columns the loader reads (the contract: ``core.contracts.RECORD_COLUMNS``).
COLUMNS: tuple[str, ...] = tuple(c for c in RECORD_COLUMNS if c not in NOT_LOADED)



# --- pure transforms ------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _pmid_order(pmid: str) -> tuple[int, str]:
    # Numeric order for numeric PMIDs (shorter first), then lexicographic.
    return (len(pmid), pmid)


def author_key(author: Mapping[str, Any]) -> str | None:
    """Author identity: ``"<last name> <initials>"`` lower-cased, or the collective name.

    Initials fall back to the first letters of the fore name. No disambiguation: two people
    with the same name and initials are one Author node.
    """
    last = _text(author.get("last_name"))
    if last is None:
        collective = _text(author.get("collective_name"))
        return " ".join(collective.lower().split()) if collective else None
    initials = _text(author.get("initials"))
    if initials is None:
        fore = _text(author.get("fore_name"))
        initials = "".join(w[0] for w in fore.replace("-", " ").split()) if fore else ""
    return " ".join(f"{last} {initials}".lower().split())


def transform_article(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``UPSERT_ARTICLES`` row: pmid and every content key, None where the record has no
    value (empty lists and blank strings become None: the property is removed)."""
    props: dict[str, Any] = {"pmid": row["pmid"]}
    for key in ARTICLE_PROPERTIES:
        value = row.get(key)
        if isinstance(value, list | tuple):
            value = [str(v) for v in value if v is not None and str(v).strip()] or None
        elif isinstance(value, str):
            value = value if value.strip() else None
        props[key] = value
    props["journal_id"] = _text(row.get("journal_id"))
    return props


def transform_mesh(headings: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """One ``HAS_MESH`` description per descriptor UI (duplicate headings merged).

    ``major`` is PubMed's MeSH Major Topic: the descriptor or one of its qualifiers is
    starred; ``descriptor_major`` is the descriptor's own flag. ``qualifiers`` lists the
    qualifier names (unique in MeSH, e.g. ``surgery``), ``major_qualifiers`` the starred
    ones; both are None (no property) when empty.
    """
    merged: dict[str, dict[str, Any]] = {}
    for h in headings or ():
        ui = _text(h.get("ui"))
        if ui is None:
            continue
        m = merged.setdefault(
            ui,
            {
                "ui": ui,
                "name": _text(h.get("name")),
                "descriptor_major": False,
                "qualifiers": [],
                "major_qualifiers": [],
            },
        )
        m["descriptor_major"] = m["descriptor_major"] or bool(h.get("major"))
        for qual in h.get("qualifiers") or ():
            name = _text(qual.get("name"))
            if name is None or name in m["qualifiers"]:
                continue
            m["qualifiers"].append(name)
            if qual.get("major"):
                m["major_qualifiers"].append(name)
    for m in merged.values():
        m["major"] = m["descriptor_major"] or bool(m["major_qualifiers"])
        # Empty lists are sent as null: no property at all (cheaper to store).
        m["qualifiers"] = m["qualifiers"] or None
        m["major_qualifiers"] = m["major_qualifiers"] or None
    return list(merged.values())


def transform_authors(authors: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Authors in order with their key and 1-based ``position`` (first position kept)."""
    out: dict[str, dict[str, Any]] = {}
    position = 0
    for a in authors or ():
        key = author_key(a)
        if key is None:
            continue
        position += 1
        if key in out:
            continue
        out[key] = {
            "key": key,
            "position": position,
            "last_name": _text(a.get("last_name")),
            "fore_name": _text(a.get("fore_name")),
            "initials": _text(a.get("initials")),
            "collective_name": _text(a.get("collective_name")),
        }
    return list(out.values())


def transform_references(pmid: str, refs: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """Distinct cited PMIDs in order, without the article itself."""
    seen: dict[str, None] = {}
    for r in refs or ():
        ref = _text(r.get("pmid"))
        if ref is not None and ref != pmid:
            seen.setdefault(ref, None)
    return list(seen)


def _pmid_of(row: Mapping[str, Any]) -> str:
    pmid = _text(row.get("pmid"))
    if pmid is None:
        raise InputError(
            "row without a PMID", file=_text(row.get("source_file")), field="pmid"
        )
    return pmid


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The statement parameters for one batch of article rows."""

    pmids: list[str]
    articles: list[dict[str, Any]]
    stale: list[dict[str, Any]]
    journals: list[dict[str, Any]]
    journal_links: list[dict[str, Any]]
    authors: list[dict[str, Any]]
    author_links: list[dict[str, Any]]
    mesh_terms: list[dict[str, Any]]
    mesh_links: list[dict[str, Any]]
    cited: list[str]
    cite_links: list[dict[str, Any]]
    rows: int = 0
    #: Rows of the batch replaced by a later row of the same PMID from another file.
    superseded: int = 0


@dataclass(frozen=True, slots=True)
class DeletionPlan:
    """The distinct PMIDs of ``DeleteCitation`` rows of one file (``rows`` rows read)."""

    pmids: list[str]
    rows: int


def _merge_fields(into: dict[str, dict[str, Any]], key: str, values: dict[str, Any]) -> None:
    """Fold ``values`` into ``into[key]``: per field, the last non-null value wins."""
    current = into.get(key)
    if current is None:
        into[key] = dict(values)
        return
    for field_name, value in values.items():
        if value is not None:
            current[field_name] = value


def transform_batch(rows: Sequence[Mapping[str, Any]]) -> BatchPlan:
    """Dedupe a batch of article rows (the last row of a PMID wins) and split it by phase.

    Each shared node (journal, author, MeSH term, stub) is merged once per batch. Its
    properties are folded over the rows in stream order, the last non-null value per field
    winning, as the ``coalesce`` in the MERGE statements does across batches: so the graph
    does not depend on where the batch boundaries fall. Articles and links are sorted by
    PMID so every run issues the same statements in the same order.
    """
    by_pmid: dict[str, tuple[Mapping[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]
    by_pmid = {}
    journals: dict[str, dict[str, Any]] = {}
    authors: dict[str, dict[str, Any]] = {}
    mesh_terms: dict[str, dict[str, Any]] = {}
    superseded = 0
    for row in rows:
        pmid = _pmid_of(row)
        row_authors = transform_authors(row.get("authors"))
        row_mesh = transform_mesh(row.get("mesh"))
        earlier = by_pmid.get(pmid)
        if earlier is not None and earlier[0].get("source_file") != row.get("source_file"):
            superseded += 1
        by_pmid[pmid] = ({**row, "pmid": pmid}, row_authors, row_mesh)
        journal_id = _text(row.get("journal_id"))
        if journal_id is not None:
            _merge_fields(journals, journal_id, {
                "id": journal_id,
                "title": _text(row.get("journal_title")),
                "iso_abbreviation": _text(row.get("journal_iso")),
                "issn": _text(row.get("journal_issn")),
            })
        for a in row_authors:
            _merge_fields(authors, a["key"], {k: v for k, v in a.items() if k != "position"})
        for m in row_mesh:
            _merge_fields(mesh_terms, m["ui"], {"ui": m["ui"], "name": m["name"]})
    pmids = sorted(by_pmid, key=_pmid_order)

    articles: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    journal_links: list[dict[str, Any]] = []
    author_links: list[dict[str, Any]] = []
    mesh_links: list[dict[str, Any]] = []
    cite_links: list[dict[str, Any]] = []
    used_journals: set[str] = set()
    used_authors: set[str] = set()
    used_mesh: set[str] = set()
    cited: set[str] = set()
    for pmid in pmids:
        row, row_authors, row_mesh = by_pmid[pmid]
        article = transform_article(row)
        articles.append(article)
        journal_id = article["journal_id"]
        if journal_id is not None:
            used_journals.add(journal_id)
            journal_links.append({"pmid": pmid, "journal_id": journal_id})
        for a in row_authors:
            used_authors.add(a["key"])
            author_links.append({"pmid": pmid, "key": a["key"], "position": a["position"]})
        for m in row_mesh:
            used_mesh.add(m["ui"])
            mesh_links.append({"pmid": pmid, **{k: v for k, v in m.items() if k != "name"}})
        refs = transform_references(pmid, row.get("references"))
        cited.update(refs)
        cite_links.extend({"src": pmid, "dst": ref} for ref in refs)
        stale.append(
            {
                "pmid": pmid,
                "journal_id": journal_id,
                "keys": [a["key"] for a in row_authors],
                "uis": [m["ui"] for m in row_mesh],
                "refs": refs,
            }
        )
    return BatchPlan(
        pmids=pmids,
        articles=articles,
        stale=stale,
        journals=[journals[k] for k in sorted(used_journals)],
        journal_links=journal_links,
        authors=[authors[k] for k in sorted(used_authors)],
        author_links=author_links,
        mesh_terms=[mesh_terms[k] for k in sorted(used_mesh)],
        mesh_links=mesh_links,
        cited=sorted(cited, key=_pmid_order),
        cite_links=cite_links,
        rows=len(rows),
        superseded=superseded,
    )


def row_cost(row: Mapping[str, Any]) -> int:
    """Graph rows an article row writes, about: itself, its journal link, and one per
    author, MeSH heading and reference (each a relationship, some also a node)."""
    return (
        2
        + len(row.get("authors") or ())
        + len(row.get("mesh") or ())
        + len(row.get("references") or ())
    )


def plan_batches(
    rows: Iterable[Mapping[str, Any]], batch_size: int, files: dict[str, None] | None = None
) -> Iterator[BatchPlan | DeletionPlan]:
    """Cut a stream of rows into article batches and per-file deletion steps, in order.

    A batch closes once its articles add up to ``batch_size`` graph rows (``row_cost``; at
    least one article per batch): transactions stay near the same size whether articles
    carry 5 or 500 references. The deletions of a ``source_file`` are emitted after all of
    that file's articles (when the next file starts, or at the end). ``files`` collects
    the source files seen.
    """
    pending: list[Mapping[str, Any]] = []
    cost = 0
    deletions: list[str] = []
    deletion_file: Any = None
    for row in rows:
        kind = row.get("record_type")
        source_file = row.get("source_file")
        if files is not None and source_file is not None:
            files.setdefault(str(source_file), None)
        if deletions and source_file != deletion_file:
            if pending:
                yield transform_batch(pending)
                pending, cost = [], 0
            yield DeletionPlan(sorted(set(deletions), key=_pmid_order), len(deletions))
            deletions = []
        if kind == "article":
            pending.append(row)
            cost += row_cost(row)
            if cost >= batch_size:
                yield transform_batch(pending)
                pending, cost = [], 0
        elif kind == "deletion":
            deletions.append(_pmid_of(row))
            deletion_file = source_file
        else:
            raise InputError(
                f"unknown record_type {kind!r} (expected 'article' or 'deletion')",
                file=_text(source_file),
                record=_text(row.get("pmid")),
                field="record_type",
            )
    if pending:
        yield transform_batch(pending)
    if deletions:
        yield DeletionPlan(sorted(set(deletions), key=_pmid_order), len(deletions))


_DONE = object()


def _prefetch(items: Iterator[Any], depth: int) -> Iterator[Any]:
    """Run ``items`` in a daemon thread, ``depth`` items ahead; re-raise its error in order."""
    out: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed over to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=produce, name="pubgraph-load-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException


# --- summary ----------------------------------------------------------------------------------


@dataclass(slots=True)
class LoadSummary:
    """What a load did. Row counts are rows sent; ``*_created``/``*_deleted`` come from Neo4j."""

    rows: int = 0
    batches: int = 0
    articles: int = 0
    deletions: int = 0
    articles_removed: int = 0
    #: Articles whose text came from another file and was replaced (the last-loaded file
    #: wins: the rule for a PMID that occurs in two files).
    replaced_from_other_file: int = 0
    stubs_created: int = 0
    mesh_links: int = 0
    author_links: int = 0
    journal_links: int = 0
    citations: int = 0
    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    def add(self, other: LoadSummary) -> None:
        """Accumulate ``other`` into this summary."""
        for f in fields(self):
            if f.name == "files":
                self.files.extend(other.files)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON / tables)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _count(summary: LoadSummary, result: neo4j.Result) -> neo4j.ResultSummary:
    done = result.consume()
    c = done.counters
    summary.nodes_created += c.nodes_created
    summary.nodes_deleted += c.nodes_deleted
    summary.relationships_created += c.relationships_created
    summary.relationships_deleted += c.relationships_deleted
    summary.properties_set += c.properties_set
    return done


def _run(tx: neo4j.ManagedTransaction, s: LoadSummary, query: str, **params: Any) -> None:
    _count(s, tx.run(query, **params))


def _run_keys(
    tx: neo4j.ManagedTransaction, s: LoadSummary, query: str, key: str, **params: Any
) -> list[Any]:
    result = tx.run(query, **params)
    keys = [record[key] for record in result]
    _count(s, result)
    return keys


def _split(rows: list[dict[str, Any]], linked: set[str], key: str = "pmid") -> tuple[
    list[dict[str, Any]], list[dict[str, Any]]
]:
    """``(rows of articles without outgoing relationships, rows of the others)``."""
    if not linked:
        return rows, []
    return [r for r in rows if r[key] not in linked], [r for r in rows if r[key] in linked]


def write_article_batch(tx: neo4j.ManagedTransaction, plan: BatchPlan) -> LoadSummary:
    """All phases of one batch, in one transaction (safe to retry: the batch is atomic, and
    CREATE is used only for articles that had no outgoing relationship once their locks
    were taken, so concurrent loads of the same rows cannot both create)."""
    s = LoadSummary(
        batches=1, articles=len(plan.articles), replaced_from_other_file=plan.superseded
    )
    result = tx.run(q.LOCK_ARTICLES, pmids=plan.pmids)
    locked = list(result)
    _count(s, result)
    linked = {r["pmid"] for r in locked if r["linked"]}
    new_file = {a["pmid"]: a["source_file"] for a in plan.articles}
    s.replaced_from_other_file += sum(
        1 for r in locked
        if r["source_file"] is not None and r["source_file"] != new_file.get(r["pmid"])
    )
    _run(tx, s, q.UPSERT_ARTICLES, rows=plan.articles)

    lost_journals: list[str] = []
    lost_authors: list[str] = []
    lost_cited: list[str] = []
    if linked:
        stale = [r for r in plan.stale if r["pmid"] in linked]
        lost_journals = _run_keys(tx, s, q.DELETE_STALE_PUBLISHED_IN, "id", rows=stale)
        lost_authors = _run_keys(tx, s, q.DELETE_STALE_AUTHORED_BY, "key", rows=stale)
        _run(tx, s, q.DELETE_STALE_HAS_MESH, rows=stale)
        lost_cited = _run_keys(tx, s, q.DELETE_STALE_CITES, "pmid", rows=stale)

    # Nodes first, then relationships between nodes that all exist.
    if plan.journals:
        _run(tx, s, q.MERGE_JOURNALS, rows=plan.journals)
    if plan.authors:
        _run(tx, s, q.MERGE_AUTHORS, rows=plan.authors)
    if plan.mesh_terms:
        _run(tx, s, q.MERGE_MESH_TERMS, rows=plan.mesh_terms)
    if plan.cited:
        before = s.nodes_created
        _run(tx, s, q.MERGE_STUBS, pmids=plan.cited)
        s.stubs_created += s.nodes_created - before

    for rows, key, create, merge in (
        (plan.journal_links, "pmid", q.CREATE_PUBLISHED_IN, q.LINK_JOURNALS),
        (plan.author_links, "pmid", q.CREATE_AUTHORED_BY, q.LINK_AUTHORS),
        (plan.mesh_links, "pmid", q.CREATE_HAS_MESH, q.LINK_MESH),
        (plan.cite_links, "src", q.CREATE_CITES, q.LINK_CITES),
    ):
        fresh, known = _split(rows, linked, key)
        if fresh:
            _run(tx, s, create, rows=fresh)
        if known:
            _run(tx, s, merge, rows=known)

    _delete_orphans(tx, s, lost_journals, lost_authors, lost_cited)
    s.journal_links = len(plan.journal_links)
    s.author_links = len(plan.author_links)
    s.mesh_links = len(plan.mesh_links)
    s.citations = len(plan.cite_links)
    return s


def _delete_orphans(
    tx: neo4j.ManagedTransaction,
    s: LoadSummary,
    journals: list[str],
    authors: list[str],
    cited: list[str],
) -> None:
    if journals:
        _run(tx, s, q.DELETE_ORPHAN_JOURNALS, ids=journals)
    if authors:
        _run(tx, s, q.DELETE_ORPHAN_AUTHORS, keys=authors)
    if cited:
        _run(tx, s, q.DELETE_ORPHAN_STUBS, pmids=cited)


def write_deletions(tx: neo4j.ManagedTransaction, pmids: list[str]) -> LoadSummary:
    """Apply ``DeleteCitation`` PMIDs: drop content and outgoing edges, keep cited stubs."""
    s = LoadSummary(batches=1)
    empty: list[dict[str, Any]] = [
        {"pmid": p, "journal_id": None, "keys": [], "uis": [], "refs": []} for p in pmids
    ]
    lost_journals = _run_keys(tx, s, q.DELETE_STALE_PUBLISHED_IN, "id", rows=empty)
    lost_authors = _run_keys(tx, s, q.DELETE_STALE_AUTHORED_BY, "key", rows=empty)
    _run(tx, s, q.DELETE_STALE_HAS_MESH, rows=empty)
    lost_cited = _run_keys(tx, s, q.DELETE_STALE_CITES, "pmid", rows=empty)
    s.deletions = sum(_run_keys(tx, s, q.CLEAR_DELETED_ARTICLES, "deleted", pmids=pmids))
    _delete_orphans(tx, s, lost_journals, lost_authors, lost_cited)
    s.articles_removed = sum(_run_keys(tx, s, q.DELETE_ISOLATED_ARTICLES, "removed", pmids=pmids))
    return s


# --- the loader ---------------------------------------------------------------------------------

ProgressCallback = Callable[[int, LoadSummary], None]


class GraphLoader:
    """Write RECORD_SCHEMA rows into Neo4j, one transaction per batch of articles.

    A batch holds about ``batch_size`` graph rows (nodes and relationships, see
    :func:`row_cost`): ~5,000 rows (some 300 PubMed articles) per transaction is where a
    2-core machine with a 1 GiB heap loads fastest; much larger transactions spend their
    time in garbage collection (measured in ``bench/bench_load.py``).

    ``on_progress(rows_done, batch_summary)`` is called after each committed batch. Rows of
    type ``deletion`` are applied after the articles of the same ``source_file``. With
    ``ensure_schema`` (default) the constraints and indexes are created first if missing:
    without the unique constraints every MERGE would scan.
    """

    def __init__(
        self,
        driver: GraphDB,
        batch_size: int = 5000,
        on_progress: ProgressCallback | None = None,
        ensure_schema: bool = True,
        prefetch: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.driver = driver
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.prefetch = prefetch
        self._schema_checked = not ensure_schema

    def _ensure_schema(self) -> None:
        if not self._schema_checked:
            from pubgraph.graph.schema import init_schema

            init_schema(self.driver)
            self._schema_checked = True

    def _session(self) -> neo4j.Session:
        return self.driver.session()

    def load_rows(self, rows: Iterable[Mapping[str, Any]]) -> LoadSummary:
        """Load rows (dicts with RECORD_SCHEMA column names) from any iterable, streaming.

        With ``prefetch`` (default) a background thread reads and transforms the next batch
        while Neo4j writes the current one: on two cores this overlaps the Python work with
        the server's. A bad row raises :class:`InputError` after every batch before it has
        been committed.
        """
        self._ensure_schema()
        start = time.perf_counter()
        total = LoadSummary()
        files: dict[str, None] = {}
        work = plan_batches(rows, self.batch_size, files)
        if self.prefetch:
            work = _prefetch(work, depth=2)
        try:
            with self._session() as session:
                for step in work:
                    if isinstance(step, BatchPlan):
                        done = session.execute_write(write_article_batch, step)
                        done.rows = step.rows
                    else:
                        done = session.execute_write(write_deletions, step.pmids)
                        done.rows = step.rows
                    self._report(total, done)
        except CONNECTION_ERRORS as exc:
            raise connection_lost(
                exc, committed=f"{total.rows:,} rows in {total.batches:,} batches",
                command="load",
            ) from None
        total.files = list(files)
        total.seconds = time.perf_counter() - start
        return total

    def _report(self, total: LoadSummary, done: LoadSummary) -> None:
        total.add(done)
        if self.on_progress is not None:
            self.on_progress(done.rows, done)

    def load_parquet(self, paths: Iterable[str | Path]) -> LoadSummary:
        """Load Parquet files of RECORD_SCHEMA rows, in the given order, streaming."""
        files = [Path(p) for p in paths]
        for path in files:
            check_parquet(path)
        return self.load_rows(iter_parquet_rows(files))


def check_parquet(path: Path) -> int:
    """Check that ``path`` is a readable Parquet file of records; return its row count."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputError("no such file", file=str(path))
    try:
        meta = pq.ParquetFile(path)
    except Exception as exc:
        raise InputError(f"not a Parquet file ({exc})", file=str(path)) from None
    missing = [c for c in ("record_type", "pmid") if c not in meta.schema_arrow.names]
    if missing:
        raise InputError(
            "not a file of records (RECORD_SCHEMA): missing column", file=str(path),
            field=missing[0],
        )
    return int(meta.metadata.num_rows)


def iter_parquet_rows(paths: Sequence[Path], batch_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Rows of the Parquet files as dicts (only the columns the loader reads).

    A row without ``source_file`` is attributed to the Parquet file it came from.
    """
    import pyarrow.parquet as pq

    for path in paths:
        pf = pq.ParquetFile(path)
        names = set(pf.schema_arrow.names)
        columns = [c for c in COLUMNS if c in names]
        for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
            for row in batch.to_pylist():
                if row.get("source_file") is None:
                    row["source_file"] = path.name
                yield row
