"""Damaged input files (issue #14, defects 2 and 3): a bad byte or tag costs only its
record under --skip-bad; a corrupt gzip is one line naming the file, and with --skip-bad
the other files still go in; a file not read to its end makes the run exit non-zero."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import InputError
from pubgraph.ingest.files import sync_files
from pubgraph.ingest.pubmed import SkipInfo, iter_pubmed
from pubgraph.ingest.records import Article
from tests.reliability.helpers import cli, error_lines, pmid_of, pubmed14_head, record_spans

pytestmark = pytest.mark.reliability

N = 300  # records of pubmed20n0014 used here


@pytest.fixture(scope="module")
def clean(shared_data: Path) -> bytes:
    return pubmed14_head(N)


def _pmids(path: Path) -> tuple[list[str], list[SkipInfo]]:
    skips: list[SkipInfo] = []
    got = [r.pmid for r in iter_pubmed(path, skip_bad=True, on_skip=skips.append)
           if isinstance(r, Article)]
    return got, skips


def test_invalid_utf8_in_record_100_costs_only_that_record(clean: bytes, tmp_path: Path
                                                           ) -> None:
    """The issue's reproduction: one invalid byte in record 100 kept 99 articles."""
    spans = record_spans(clean)
    start, _ = spans[99]
    title = clean.index(b"<ArticleTitle>", start) + len(b"<ArticleTitle>") + 3
    bad = clean[:title] + b"\xff\xfe" + clean[title:]
    path = tmp_path / "bad.xml"
    path.write_bytes(bad)
    all_pmids = [pmid_of(clean[s:e]) for s, e in spans]
    got, skips = _pmids(path)
    assert got == all_pmids[:99] + all_pmids[100:]
    assert len(skips) == 1 and skips[0].record.startswith("#100 after PMID")
    assert "malformed XML" in skips[0].reason and not skips[0].rest_of_file


def test_deleted_end_tag_costs_only_that_record(clean: bytes, tmp_path: Path) -> None:
    spans = record_spans(clean)
    start, end = spans[49]
    cut = clean.rindex(b"</PubmedArticle>", start, end)
    path = tmp_path / "no-end-tag.xml"
    path.write_bytes(clean[:cut] + clean[cut + len(b"</PubmedArticle>"):])
    all_pmids = [pmid_of(clean[s:e]) for s, e in spans]
    got, skips = _pmids(path)
    assert got == all_pmids[:49] + all_pmids[50:]
    assert len(skips) == 1, skips


def test_damaged_start_tag_is_counted_not_silently_merged(clean: bytes, tmp_path: Path
                                                          ) -> None:
    spans = record_spans(clean)
    start, _ = spans[10]
    bad = clean[:start] + b"<PubmedArticl>" + clean[start + len(b"<PubmedArticle>"):]
    path = tmp_path / "bad-start.xml"
    path.write_bytes(bad)
    all_pmids = [pmid_of(clean[s:e]) for s, e in spans]
    got, skips = _pmids(path)
    assert got == all_pmids[:10] + all_pmids[11:]
    assert sum(s.lost_record for s in skips) == 1, skips


def test_strict_mode_still_stops_with_one_error_naming_file_and_record(
        clean: bytes, tmp_path: Path) -> None:
    spans = record_spans(clean)
    start, _ = spans[5]
    path = tmp_path / "bad.xml"
    path.write_bytes(clean[: start + 40] + b"\xff" + clean[start + 40:])
    with pytest.raises(InputError) as info:
        list(iter_pubmed(path))
    assert str(path) in str(info.value) and "record #6 after PMID" in str(info.value)


def test_truncated_file_keeps_every_whole_record_and_exits_1(clean: bytes, tmp_path: Path
                                                             ) -> None:
    spans = record_spans(clean)
    cut = (spans[200][0] + spans[200][1]) // 2
    path = tmp_path / "truncated.xml.gz"
    path.write_bytes(gzip.compress(clean[:cut]))
    out = tmp_path / "out.parquet"
    run = cli("ingest", "files", str(path), "--out", str(out), "--skip-bad", "--no-progress")
    assert run.returncode == 1, run.stderr
    assert f"{path}: could not be read to its end" in run.stderr
    assert pq.read_table(out).num_rows == 200


@pytest.fixture
def corrupt_dir(tmp_path: Path, shared_data: Path) -> Path:
    """Three broken .gz files (the issue's cases) beside a good one."""
    good = (shared_data / "pubmed_small" / "il6_cytokine_100.xml").read_bytes()
    packed = gzip.compress(good)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a_magic_then_garbage.xml.gz").write_bytes(b"\x1f\x8b" + os.urandom(400))
    (d / "b_header_then_bad_data.xml.gz").write_bytes(
        packed[:10] + bytes(b ^ 0x5A for b in packed[10:2000]) + packed[2000:])
    (d / "c_truncated_12_bytes.xml.gz").write_bytes(packed[:12])
    (d / "d_good.xml.gz").write_bytes(packed)
    return d


@pytest.mark.parametrize("name", ["a_magic_then_garbage.xml.gz", "b_header_then_bad_data.xml.gz",
                                  "c_truncated_12_bytes.xml.gz"])
def test_corrupt_gzip_is_one_line_naming_the_file(corrupt_dir: Path, tmp_path: Path,
                                                  name: str) -> None:
    path = corrupt_dir / name
    run = cli("ingest", "files", str(path), "--out", str(tmp_path / "x.parquet"),
              "--no-progress")
    assert run.returncode == 2
    lines = error_lines(run.stderr)
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: {path}") and "gzip" in lines[0]
    assert "Traceback" not in run.stderr and "Aborted" not in run.stderr


def test_skip_bad_directory_with_corrupt_gzips_loads_the_good_file(corrupt_dir: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    run = cli("ingest", "files", str(corrupt_dir), "--out", str(out), "--skip-bad",
              "--no-progress")
    assert run.returncode == 1, run.stderr  # three files could not be read to their end
    assert "Traceback" not in run.stderr
    lines = error_lines(run.stderr)
    assert len(lines) == 3 and all("could not be read to its end" in x for x in lines)
    assert pq.read_table(out).num_rows == 100  # every record of the good file


def test_sync_files_reports_incomplete_files(corrupt_dir: Path, tmp_path: Path) -> None:
    summary = sync_files([corrupt_dir], tmp_path / "s.parquet", skip_bad=True, progress=False)
    assert summary.articles == 100
    assert sorted(Path(f).name for f in summary.incomplete_files) == [
        "a_magic_then_garbage.xml.gz", "b_header_then_bad_data.xml.gz",
        "c_truncated_12_bytes.xml.gz"]
