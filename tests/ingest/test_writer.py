"""Parquet writer: schema, row groups, round trip, crash safety."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pubgraph.ingest.pmc import parse_pmc
from pubgraph.ingest.pubmed import iter_pubmed
from pubgraph.ingest.records import RECORD_SCHEMA, Article, Deletion, to_row
from pubgraph.ingest.writer import (
    RecordWriter,
    from_row,
    partial_path,
    read_batches,
    read_records,
    write_records,
)
from tests.ingest.helpers import FIXTURES


def _fixture_records() -> list[Article | Deletion]:
    records: list[Article | Deletion] = list(iter_pubmed(FIXTURES / "pubmed_fields.xml"))
    records.append(parse_pmc(FIXTURES / "pmc_article.nxml", include_body=True))
    return records


def test_round_trip_rows_and_records(tmp_path: Path) -> None:
    records = _fixture_records()
    out = tmp_path / "r.parquet"
    assert write_records(records, out, source_file="f.xml", row_group_size=2) == len(records)
    assert out.exists() and not partial_path(out).exists()
    assert pq.read_schema(out).equals(RECORD_SCHEMA)
    rows = list(read_records(out))
    assert rows == [to_row(r, "f.xml") for r in records]
    assert [from_row(r) for r in rows] == records
    assert pq.ParquetFile(out).metadata.num_row_groups == 4  # 7 rows, groups of 2


def test_read_batches_streams(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    write_records(_fixture_records(), out)
    batches = list(read_batches(out, batch_size=3))
    assert [b.num_rows for b in batches] == [3, 3, 1]
    assert batches[0].schema.equals(RECORD_SCHEMA)


def test_deletion_rows(tmp_path: Path) -> None:
    out = tmp_path / "d.parquet"
    write_records([Deletion("42")], out)
    (row,) = read_records(out)
    assert row["record_type"] == "deletion" and row["pmid"] == "42"
    assert row["title"] is None and row["mesh"] is None


def test_nothing_final_until_close(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    w = RecordWriter(out, row_group_size=2)
    for r in _fixture_records()[:3]:
        w.write(r)
    assert not out.exists() and partial_path(out).exists()
    w.close()
    assert out.exists() and not partial_path(out).exists()
    assert len(list(read_records(out))) == 3


def test_error_keeps_rows_in_a_valid_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    out.write_bytes(b"previous complete output")
    records = _fixture_records()
    with pytest.raises(RuntimeError, match="boom"), RecordWriter(out, row_group_size=2) as w:
        for r in records[:3]:
            w.write(r)
        raise RuntimeError("boom")
    assert out.read_bytes() == b"previous complete output"  # untouched
    kept = [from_row(r) for r in read_records(partial_path(out))]
    assert kept == records[:3]  # including the buffered row not yet flushed


def test_rerun_replaces_output(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    write_records(_fixture_records(), out)
    write_records([Deletion("1")], out)
    assert [r["pmid"] for r in read_records(out)] == ["1"]


def test_row_group_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        RecordWriter(tmp_path / "x.parquet", row_group_size=0)


def test_round_trip_real_files(tmp_path: Path, shared_data: Path) -> None:
    paths = [
        shared_data / "pubmed_small" / "ampk_phospho_93.xml",
        shared_data / "pubmed" / "pubmed-29768149.xml",
    ]
    records: list[Article | Deletion] = [r for p in paths for r in iter_pubmed(p)]
    records += [parse_pmc(p) for p in sorted((shared_data / "pmc").glob("*.nxml"))]
    out = tmp_path / "real.parquet"
    write_records(records, out, row_group_size=16)
    rows = list(read_records(out))
    assert rows == [to_row(r) for r in records]
    assert [from_row(r) for r in rows] == records
