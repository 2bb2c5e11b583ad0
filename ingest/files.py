"""Ingest local XML files (PubMed ``PubmedArticleSet`` and PMC JATS) into a Parquet file
of records: path expansion, format detection, counting, progress.

``sync_files`` is the composed job: ``iter_paths`` (expand) → ``iter_file_records`` (parse,
pure streaming) → :class:`~ingest.writer.RecordWriter` (load to Parquet), returning an
:class:`IngestSummary`.

Strict mode (default): the first bad record raises :class:`~pubgraph.core.errors.InputError`;
the rows written before it stay in a valid ``<out>.partial`` file, ``<out>`` is not
created. ``skip_bad=True``: bad records (or the unreadable rest of a file) are skipped,
counted and listed in the summary, and ``<out>`` is written.
"""

from __future__ import annotations

import gzip
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from pubgraph.core.errors import InputError
from pubgraph.ingest.pmc import iter_pmc
from pubgraph.ingest.pubmed import SkipInfo, iter_pubmed
from pubgraph.ingest.records import Article, Deletion, Record
from pubgraph.ingest.writer import RecordWriter

__all__ = [
    "XML_SUFFIXES",
    "IngestSummary",
    "detect_format",
    "iter_file_records",
    "iter_paths",
    "sync_files",
]

XML_SUFFIXES = (".xml", ".xml.gz", ".nxml", ".nxml.gz")
_MAX_LISTED_SKIPS = 1_000
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")

Format = Literal["pubmed", "pmc"]


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """Counts of one ingest run.

    ``references`` counts cited PMIDs (references that carry one); ``citations_without_pmid``
    the references known only by their citation string (or DOI). ``duplicate_pmids`` counts
    article records whose PMID already occurred in the same file (PubMed versioned
    citations, ``<PMID Version="2">``); the last one wins in the graph. ``skips`` lists up to
    1,000 skipped records, ``skipped`` counts the records lost (a report that lost none,
    such as damage outside the records, is listed but not counted). ``incomplete_files``
    names the files that could not be read to their end (truncated, corrupt gzip, wrong
    root element): how much they held beyond the point of damage is unknown.
    """

    files: int = 0
    articles: int = 0
    with_abstract: int = 0
    with_mesh: int = 0
    references: int = 0
    citations_without_pmid: int = 0
    articles_with_references: int = 0
    deletions: int = 0
    duplicate_pmids: int = 0
    skipped: int = 0
    skips: tuple[SkipInfo, ...] = ()
    incomplete_files: tuple[str, ...] = ()
    bytes_read: int = 0
    seconds: float = 0.0
    out: str | None = None

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Counter:
    files: int = 0
    articles: int = 0
    with_abstract: int = 0
    with_mesh: int = 0
    references: int = 0
    citations_without_pmid: int = 0
    articles_with_references: int = 0
    deletions: int = 0
    duplicate_pmids: int = 0
    skipped: int = 0
    skips: list[SkipInfo] = field(default_factory=list)
    incomplete: dict[str, None] = field(default_factory=dict)

    def skip(self, info: SkipInfo) -> None:
        if info.lost_record:
            self.skipped += 1
        if info.rest_of_file:
            self.incomplete.setdefault(info.file, None)
        if len(self.skips) < _MAX_LISTED_SKIPS:
            self.skips.append(info)

    def add(self, record: Record) -> None:
        if isinstance(record, Deletion):
            self.deletions += 1
            return
        self.articles += 1
        if record.abstract_sections:
            self.with_abstract += 1
        if record.mesh:
            self.with_mesh += 1
        if record.references:
            self.articles_with_references += 1
            cited = sum(1 for r in record.references if r.pmid)
            self.references += cited
            self.citations_without_pmid += len(record.references) - cited


def iter_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand ``paths``: a file is yielded as is; a directory gives its ``*.xml``,
    ``*.xml.gz`` and ``*.nxml`` files (recursively, sorted). InputError if a path is missing
    or a directory holds no such file."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f for f in path.rglob("*") if f.is_file() and f.name.lower().endswith(XML_SUFFIXES)
            )
            if not found:
                raise InputError("directory holds no .xml, .xml.gz or .nxml file", file=str(path))
            yield from found
        elif path.is_file():
            yield path
        else:
            raise InputError("no such file or directory", file=str(path))


def detect_format(path: str | os.PathLike[str]) -> Format:
    """``"pmc"`` for JATS (``.nxml``, or a root ``<article>``/``<pmc-articleset>``),
    else ``"pubmed"`` (the PubMed parser reports any other root element)."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".nxml", ".nxml.gz")):
        return "pmc"
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
        if head[:2] == b"\x1f\x8b":
            head = zlib.decompressobj(31).decompress(head, 65536)
    except (OSError, zlib.error):
        return "pubmed"
    # The regex needs a letter after '<': it passes over <?xml ...?> and <!DOCTYPE ...>.
    m = _FIRST_TAG.search(head)
    if m is not None and m.group(1) in (b"article", b"pmc-articleset"):
        return "pmc"
    return "pubmed"


class _ProgressReader:
    """Reads a raw file and reports the bytes read (the on-disk, compressed bytes)."""

    def __init__(self, raw: IO[bytes], name: str, on_bytes: Callable[[int], None] | None):
        self._raw = raw
        self.name = name
        self._on_bytes = on_bytes
        self.total = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.total += len(data)
        if self._on_bytes is not None and data:
            self._on_bytes(len(data))
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()


def iter_file_records(
    path: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    on_skip: Callable[[SkipInfo], None] | None = None,
    include_body: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Records of one file, PubMed or PMC (see :func:`detect_format`), plain or gzip.
    ``on_bytes`` is called with the number of on-disk bytes read, for progress bars."""
    path = Path(path)
    fmt = detect_format(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as e:
        raise InputError(f"cannot open: {e.strerror or e}", file=str(path)) from e
    try:
        magic = raw.read(2)
        raw.seek(0)
        reader = _ProgressReader(raw, str(path), on_bytes)
        stream: Any = reader
        if magic == b"\x1f\x8b":
            stream = gzip.GzipFile(filename=str(path), fileobj=cast(IO[bytes], reader), mode="rb")

        def reopen() -> IO[bytes]:
            # skip_bad's second, record-by-record pass: progress counts only the bytes
            # beyond those the first pass read.
            return _reopen(path, reader, on_bytes)

        if fmt == "pmc":
            yield from iter_pmc(
                stream, include_body=include_body, skip_bad=skip_bad, on_skip=on_skip,
                reopen=reopen,
            )
        else:
            yield from iter_pubmed(stream, skip_bad=skip_bad, on_skip=on_skip, reopen=reopen)
    finally:
        raw.close()


def _reopen(path: Path, first: _ProgressReader, on_bytes: Callable[[int], None] | None
            ) -> IO[bytes]:
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller (GzipFile.fileobj)
    except OSError as e:
        raise InputError(f"cannot open: {e.strerror or e}", file=str(path)) from e
    magic = raw.read(2)
    raw.seek(0)
    reader = _ProgressReader(raw, str(path), _beyond(first.total, on_bytes))
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=cast(IO[bytes], reader), mode="rb"))
    return cast(IO[bytes], reader)


def _beyond(already: int, on_bytes: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """``on_bytes`` for a re-read: reports only what lies past the first ``already`` bytes."""
    if on_bytes is None:
        return None
    seen = 0

    def report(n: int) -> None:
        nonlocal seen
        before = max(seen, already)
        seen += n
        if seen > before:
            on_bytes(seen - before)

    return report


def sync_files(
    paths: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    progress: bool = True,
    include_body: bool = False,
    row_group_size: int = 2_000,
    on_record: Callable[[Record, str], None] | None = None,
) -> IngestSummary:
    """Parse every file of ``paths`` (see :func:`iter_paths`) into the Parquet file ``out``.

    Crash-safe: rows go to ``<out>.partial``, renamed to ``out`` on success. In strict mode
    the first bad record raises InputError and the rows before it are kept in the
    ``.partial`` file (a valid Parquet file); with ``skip_bad`` bad records are skipped and
    listed in the returned summary. ``on_record(record, source_file)`` sees every record
    as it is written (``pubgraph ingest files --load`` streams them into Neo4j with it).
    """
    files = list(iter_paths(paths))
    total_bytes = sum(f.stat().st_size for f in files)
    counter = _Counter()
    started = time.perf_counter()
    bytes_read = 0

    bar = _progress_bar(total_bytes) if progress else None

    def on_bytes(n: int) -> None:
        nonlocal bytes_read
        bytes_read += n
        if bar is not None:
            bar.advance(n)

    writer = RecordWriter(out, row_group_size=row_group_size)
    try:
        for path in files:
            if bar is not None:
                bar.describe(path.name)
            source_file = str(path)
            seen: set[str] = set()
            for record in iter_file_records(
                path,
                skip_bad=skip_bad,
                on_skip=counter.skip,
                include_body=include_body,
                on_bytes=on_bytes,
            ):
                if isinstance(record, Article):
                    if record.pmid in seen:
                        counter.duplicate_pmids += 1
                    seen.add(record.pmid)
                counter.add(record)
                writer.write(record, source_file)
                if on_record is not None:
                    on_record(record, source_file)
            counter.files += 1
    except BaseException:
        writer.abort()
        raise
    finally:
        if bar is not None:
            bar.stop()
    writer.close()
    return IngestSummary(
        files=counter.files,
        articles=counter.articles,
        with_abstract=counter.with_abstract,
        with_mesh=counter.with_mesh,
        references=counter.references,
        citations_without_pmid=counter.citations_without_pmid,
        articles_with_references=counter.articles_with_references,
        deletions=counter.deletions,
        duplicate_pmids=counter.duplicate_pmids,
        skipped=counter.skipped,
        skips=tuple(counter.skips),
        incomplete_files=tuple(counter.incomplete),
        bytes_read=bytes_read,
        seconds=time.perf_counter() - started,
        out=str(out),
    )


class _Bar:
    """A rich progress bar over bytes, started on creation."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._progress.add_task("ingest", total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def stop(self) -> None:
        self._progress.stop()


def _progress_bar(total: int) -> _Bar:
    return _Bar(total)
