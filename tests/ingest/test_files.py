"""Path expansion, format detection, sync_files and the ``pubgraph ingest files`` CLI."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pubgraph.core.errors import InputError
from pubgraph.ingest import cli_files
from pubgraph.ingest.files import detect_format, iter_paths, sync_files
from pubgraph.ingest.writer import partial_path, read_records
from tests.ingest.helpers import FIXTURES, raw_pubmed_counts


def test_iter_paths_expands_directories_sorted(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.xml", "a.xml.gz", "sub/c.nxml", "notes.txt", "d.json"):
        (tmp_path / name).write_bytes(b"x")
    single = tmp_path / "notes.txt"
    got = list(iter_paths([tmp_path, single]))
    assert got == [tmp_path / "a.xml.gz", tmp_path / "b.xml", tmp_path / "sub" / "c.nxml", single]


def test_iter_paths_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(iter_paths([tmp_path / "missing.xml"]))
    with pytest.raises(InputError, match="holds no"):
        list(iter_paths([tmp_path]))


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(FIXTURES / "pmc_article.nxml") == "pmc"
    assert detect_format(FIXTURES / "pmc_articleset.xml") == "pmc"
    assert detect_format(FIXTURES / "pubmed_fields.xml") == "pubmed"
    gz = tmp_path / "set.xml.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "pmc_articleset.xml").read_bytes()))
    assert detect_format(gz) == "pmc"


def test_sync_files_small_shared_files(tmp_path: Path, shared_data: Path) -> None:
    paths = sorted((shared_data / "pubmed_small").glob("*.xml"))
    out = tmp_path / "small.parquet"
    summary = sync_files([shared_data / "pubmed_small"], out, progress=False)
    raw = [raw_pubmed_counts(p) for p in paths]
    assert summary.files == 3
    assert summary.articles == sum(r.articles for r in raw) == 121 + 93 + 100
    assert summary.with_mesh == sum(r.with_mesh for r in raw) == 112 + 93 + 100
    assert summary.with_abstract == sum(r.with_abstract for r in raw)
    assert summary.references == sum(r.cited_pmids for r in raw) == 362 + 1925 + 645
    assert summary.articles_with_references == sum(r.articles_with_references for r in raw)
    assert summary.deletions == 0 and summary.skipped == 0
    rows = list(read_records(out))
    assert len(rows) == summary.articles
    assert {Path(r["source_file"]).name for r in rows} == {p.name for p in paths}


def test_citations_between_air_embolism_articles(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "air.parquet"
    sync_files([shared_data / "pubmed_small" / "air_embolism_121.xml"], out, progress=False)
    rows = list(read_records(out))
    inside = {r["pmid"] for r in rows}
    edges = {(r["pmid"], ref["pmid"]) for r in rows for ref in r["references"] if ref["pmid"]}
    assert sum(1 for _, cited in edges if cited in inside) == 54  # shared README figure


def test_sync_files_mixes_pubmed_and_pmc(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "mix.parquet"
    summary = sync_files(
        [shared_data / "pmc", shared_data / "pubmed" / "pubmed-29768149.xml"],
        out,
        progress=False,
        include_body=True,
    )
    assert summary.files == 9 and summary.articles == 9
    rows = list(read_records(out))
    assert sorted(r["source"] for r in rows) == ["pmc"] * 8 + ["pubmed"]
    assert all(r["body"] for r in rows if r["source"] == "pmc")
    pmc_refs = 0
    for p in sorted((shared_data / "pmc").glob("*.nxml")):
        text = p.read_text(encoding="utf-8")
        refs = re.findall(r"<ref[\s>].*?</ref>", text, re.S)
        pmc_refs += sum(1 for r in refs if re.search(r'pub-id-type="pmid">\s*\d+', r))
    assert summary.references == pmc_refs


def _bad_dir(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(FIXTURES / "pubmed_fields.xml", d / "a_fields.xml")
    shutil.copy(FIXTURES / "pubmed_missing_pmid.xml", d / "b_missing.xml")
    shutil.copy(FIXTURES / "pubmed_malformed.xml", d / "c_malformed.xml")
    shutil.copy(FIXTURES / "pmc_no_pmid.nxml", d / "d_nopmid.nxml")
    return d


def test_sync_files_strict_stops_and_keeps_partial(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    with pytest.raises(InputError) as info:
        sync_files([_bad_dir(tmp_path)], out, progress=False)
    assert info.value.file is not None and info.value.file.endswith("b_missing.xml")
    assert not out.exists()
    kept = [r["pmid"] for r in read_records(partial_path(out))]
    # a_fields.xml complete (4 articles + 2 deletions), then b_missing.xml up to the error.
    assert kept == ["1000001", "1000002", "1000003", "1000004", "1000010", "1000011", "2000001"]


def test_sync_files_skip_bad_goes_on_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    summary = sync_files([_bad_dir(tmp_path)], out, skip_bad=True, progress=False)
    assert out.exists() and not partial_path(out).exists()
    pmids = [r["pmid"] for r in read_records(out)]
    assert pmids == ["1000001", "1000002", "1000003", "1000004", "1000010", "1000011",
                     "2000001", "2000003", "3000001", "3000002", "3000004"]  # fmt: skip
    # c_malformed.xml: only the broken record is lost, the one after it is kept (#14).
    assert summary.articles == 9 and summary.deletions == 2
    assert summary.skipped == 3
    reasons = [(Path(s.file).name, s.record) for s in summary.skips]
    assert reasons == [
        ("b_missing.xml", "#2 after PMID 2000001"),
        ("c_malformed.xml", "#3 after PMID 3000002"),
        ("d_nopmid.nxml", "PMC8000002"),
    ]


def _cli() -> typer.Typer:
    app = typer.Typer()
    group = typer.Typer()
    cli_files.register(group)
    app.add_typer(group, name="ingest")
    return app


def test_cli_files_prints_summary(tmp_path: Path) -> None:
    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(
        _cli(),
        ["ingest", "files", str(_bad_dir(tmp_path)), "--out", str(out), "--skip-bad",
         "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.output
    assert re.search(r"articles\s*│\s*9\b", text)
    assert re.search(r"deletions\s*│\s*2\b", text)
    assert re.search(r"skipped \(records lost\)\s*│\s*3\b", text)
    assert "no PMID" in text and "c_malformed.xml" in text
    assert out.exists()


def test_cli_files_strict_error_is_one_line(tmp_path: Path) -> None:
    from pubgraph.core.errors import PubgraphError

    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(
        _cli(), ["ingest", "files", str(_bad_dir(tmp_path)), "--out", str(out), "--no-progress"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, PubgraphError)
    assert "b_missing.xml" in str(result.exception)
    assert partial_path(out).exists() and not out.exists()
