"""Streaming Parquet output of records (``RECORD_SCHEMA``), and reading it back.

:class:`RecordWriter` buffers one row group (2,000 rows by default), writes it with
pyarrow's ``ParquetWriter`` and drops it, so memory stays flat whatever the input size.

Crash safety: rows go to ``<out>.partial``; only :meth:`RecordWriter.close` (success)
renames it to ``<out>``, so an existing ``<out>`` is always a complete file. On failure
(:meth:`RecordWriter.abort`, or an exception inside ``with RecordWriter(...)``) the rows
written so far are finalised into a *valid* Parquet file left at ``<out>.partial`` (nothing
parsed before the error is lost, and it can be inspected); ``<out>`` is not touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pubgraph.ingest.records import (
    RECORD_SCHEMA,
    AbstractSection,
    Article,
    Author,
    Chemical,
    Deletion,
    Journal,
    MeshHeading,
    PubDate,
    Qualifier,
    Record,
    Reference,
    to_row,
)

__all__ = [
    "DEFAULT_ROW_GROUP_SIZE",
    "RecordWriter",
    "from_row",
    "partial_path",
    "read_batches",
    "read_records",
    "write_records",
]

DEFAULT_ROW_GROUP_SIZE = 2_000


def partial_path(out: str | os.PathLike[str]) -> Path:
    """Where rows are written until the output is complete: ``<out>.partial``."""
    out = Path(out)
    return out.with_name(out.name + ".partial")


class RecordWriter:
    """Write records to a Parquet file of ``RECORD_SCHEMA``, one row group at a time.

    Use as a context manager, or call :meth:`write` then :meth:`close` (or :meth:`abort`).
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        *,
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        compression: str = "zstd",
    ) -> None:
        if row_group_size <= 0:
            raise ValueError("row_group_size must be positive")
        self.out = Path(out)
        self.partial = partial_path(self.out)
        self.row_group_size = row_group_size
        self.rows_written = 0
        self._buffer: list[dict[str, Any]] = []
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self.partial, RECORD_SCHEMA, compression=compression
        )

    def write(self, record: Record, source_file: str | None = None) -> None:
        """Append one record (an :class:`Article` or a :class:`Deletion`)."""
        self._buffer.append(to_row(record, source_file))
        if len(self._buffer) >= self.row_group_size:
            self.flush()

    def write_many(self, records: Iterable[Record], source_file: str | None = None) -> None:
        for record in records:
            self.write(record, source_file)

    def flush(self) -> None:
        """Write the buffered rows as one row group."""
        if not self._buffer:
            return
        if self._writer is None:
            raise RuntimeError("writer is closed")
        table = pa.Table.from_pylist(self._buffer, schema=RECORD_SCHEMA)
        self._writer.write_table(table, row_group_size=len(self._buffer))
        self.rows_written += len(self._buffer)
        self._buffer = []

    def close(self) -> Path:
        """Flush, finalise the file and move it from ``.partial`` to its final name."""
        self._finish()
        os.replace(self.partial, self.out)
        return self.out

    def abort(self) -> Path:
        """Keep what was written as a valid Parquet file at ``<out>.partial``; ``<out>``
        is left untouched. Returns the partial path."""
        self._finish()
        return self.partial

    def _finish(self) -> None:
        if self._writer is None:
            return
        try:
            self.flush()
        finally:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_records(
    records: Iterable[Record],
    out: str | os.PathLike[str],
    *,
    source_file: str | None = None,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> int:
    """Write all ``records`` to ``out`` (crash-safe as :class:`RecordWriter`); row count."""
    with RecordWriter(out, row_group_size=row_group_size) as w:
        w.write_many(records, source_file)
        w.flush()
        return w.rows_written


def read_batches(
    path: str | os.PathLike[str], *, batch_size: int = DEFAULT_ROW_GROUP_SIZE
) -> Iterator[pa.RecordBatch]:
    """Arrow record batches of a records file, streamed (one batch in memory at a time)."""
    pf = pq.ParquetFile(path)
    yield from pf.iter_batches(batch_size=batch_size)


def read_records(
    path: str | os.PathLike[str], *, batch_size: int = DEFAULT_ROW_GROUP_SIZE
) -> Iterator[dict[str, Any]]:
    """Rows of a records file as dicts with the ``RECORD_SCHEMA`` column names."""
    for batch in read_batches(path, batch_size=batch_size):
        yield from batch.to_pylist()


def from_row(row: dict[str, Any]) -> Record:
    """Rebuild a record from its row (inverse of :func:`ingest.records.to_row`).

    The row keeps the journal key (``journal_id``), not the NLM id itself: the NLM id is
    taken to be ``journal_id`` when that is neither the ISSN nor the title (the key is the
    NLM id, else the ISSN, else the title).
    """
    if row["record_type"] == "deletion":
        return Deletion(pmid=row["pmid"])
    journal_id = row.get("journal_id")
    issn, title = row.get("journal_issn"), row.get("journal_title")
    nlm_id = journal_id if journal_id not in (None, issn, title) else None
    return Article(
        pmid=row["pmid"],
        title=row.get("title"),
        abstract_sections=tuple(
            AbstractSection(text=s["text"], label=s["label"], category=s["category"])
            for s in row.get("abstract_sections") or ()
        ),
        language=row.get("language"),
        pub_date=PubDate(
            year=row.get("year"),
            month=row.get("month"),
            day=row.get("day"),
            medline_date=row.get("medline_date"),
        ),
        journal=Journal(
            title=title,
            iso_abbreviation=row.get("journal_iso"),
            issn=issn,
            nlm_unique_id=nlm_id,
        ),
        doi=row.get("doi"),
        pmcid=row.get("pmcid"),
        authors=tuple(
            Author(
                last_name=a["last_name"],
                fore_name=a["fore_name"],
                initials=a["initials"],
                collective_name=a["collective_name"],
                affiliations=tuple(a["affiliations"] or ()),
                orcid=a["orcid"],
            )
            for a in row.get("authors") or ()
        ),
        mesh=tuple(
            MeshHeading(
                ui=m["ui"],
                name=m["name"],
                major=m["major"],
                qualifiers=tuple(
                    Qualifier(ui=q["ui"], name=q["name"], major=q["major"])
                    for q in m["qualifiers"] or ()
                ),
            )
            for m in row.get("mesh") or ()
        ),
        chemicals=tuple(
            Chemical(ui=c["ui"], name=c["name"], registry_number=c["registry_number"])
            for c in row.get("chemicals") or ()
        ),
        keywords=tuple(row.get("keywords") or ()),
        publication_types=tuple(row.get("publication_types") or ()),
        references=tuple(
            Reference(pmid=r["pmid"], doi=r["doi"], pmcid=r["pmcid"], citation=r["citation"])
            for r in row.get("references") or ()
        ),
        body=row.get("body"),
        source=row.get("source") or "pubmed",
    )
