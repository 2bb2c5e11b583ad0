"""Bad input: clear InputErrors in strict mode, skip-and-report in skip_bad mode."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pubgraph.core.errors import InputError
from pubgraph.ingest.pubmed import SkipInfo, iter_pubmed
from pubgraph.ingest.records import Article
from tests.ingest.helpers import FIXTURES


def pmids(records: list) -> list[str]:  # type: ignore[type-arg]
    return [r.pmid for r in records]


def collect(path: Path | str) -> tuple[list[str], list[SkipInfo]]:
    skips: list[SkipInfo] = []
    got = pmids(list(iter_pubmed(path, skip_bad=True, on_skip=skips.append)))
    return got, skips


def strict_prefix(path: Path | str) -> tuple[list[str], InputError]:
    """Records yielded before the strict-mode error, and the error."""
    got: list[str] = []
    with pytest.raises(InputError) as info:
        for r in iter_pubmed(path):
            got.append(r.pmid)
    return got, info.value


def test_missing_pmid_strict_names_file_record_and_line() -> None:
    path = FIXTURES / "pubmed_missing_pmid.xml"
    got, err = strict_prefix(path)
    assert got == ["2000001"]  # everything before the bad record was yielded
    assert err.file == str(path)
    assert err.record == "#2 after PMID 2000001"
    assert err.field == "PMID"
    assert "no PMID" in str(err) and "line 8" in str(err)


def test_missing_pmid_skip_bad_skips_only_that_article() -> None:
    got, skips = collect(FIXTURES / "pubmed_missing_pmid.xml")
    assert got == ["2000001", "2000003"]
    assert len(skips) == 1
    assert skips[0].record == "#2 after PMID 2000001"
    assert skips[0].line == 8
    assert "no PMID" in skips[0].reason


def test_malformed_xml_strict() -> None:
    path = FIXTURES / "pubmed_malformed.xml"
    got, err = strict_prefix(path)
    assert got == ["3000001", "3000002"]
    assert err.file == str(path)
    assert err.record == "#3 after PMID 3000002"
    assert "malformed XML" in str(err) and "line 15" in str(err)


def test_malformed_xml_skip_bad_loses_only_the_broken_record() -> None:
    # Issue #14: skip means skip THAT record; the file is re-read record by record.
    got, skips = collect(FIXTURES / "pubmed_malformed.xml")
    assert got == ["3000001", "3000002", "3000004"]
    assert [s.line for s in skips] == [15]  # the line of the XML error
    assert "malformed XML" in skips[0].reason and skips[0].record == "#3 after PMID 3000002"


def test_unknown_root_element() -> None:
    path = FIXTURES / "unknown_root.xml"
    with pytest.raises(InputError, match=r"unknown root element <eSearchResult>"):
        list(iter_pubmed(path))
    got, skips = collect(path)
    assert got == [] and len(skips) == 1


def test_unknown_root_with_articles_inside_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "wrapped.xml"
    p.write_text(
        "<Wrapper><PubmedArticle><MedlineCitation><PMID>1</PMID></MedlineCitation>"
        "</PubmedArticle></Wrapper>"
    )
    with pytest.raises(InputError, match="unknown root element <Wrapper>"):
        list(iter_pubmed(p))


def test_pmc_file_given_to_pubmed_parser() -> None:
    with pytest.raises(InputError, match="unknown root element <article>"):
        list(iter_pubmed(FIXTURES / "pmc_article.nxml"))


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress((FIXTURES / "pubmed_fields.xml").read_bytes())
    p = tmp_path / "cut.xml.gz"
    p.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError) as info:
        list(iter_pubmed(p))
    assert info.value.file == str(p)
    assert "truncated" in str(info.value) or "malformed" in str(info.value)
    got, skips = collect(p)
    assert len(skips) == 1
    assert set(got) <= {"1000001", "1000002", "1000003", "1000004"}


def test_corrupt_gzip_member(tmp_path: Path) -> None:
    data = bytearray(gzip.compress((FIXTURES / "pubmed_fields.xml").read_bytes()))
    data[40:60] = b"\x00" * 20  # damage the deflate stream
    p = tmp_path / "bad.xml.gz"
    p.write_bytes(bytes(data))
    with pytest.raises(InputError, match=str(p).replace(".", r"\.")):
        list(iter_pubmed(p))


def test_non_utf8_bytes(tmp_path: Path) -> None:
    text = (FIXTURES / "pubmed_missing_pmid.xml").read_bytes()
    bad = text.replace(b"Third good article.", b"Third \xff\xfe article.")
    p = tmp_path / "latin.xml"
    p.write_bytes(bad)
    got, err = strict_prefix(p)
    assert got == ["2000001"]  # the PMID-less one is the error before: see below
    assert err.record == "#2 after PMID 2000001"
    got, skips = collect(p)
    # The missing PMID is skipped; the encoding error ends the file.
    assert got == ["2000001"]
    assert len(skips) == 2
    assert "no PMID" in skips[0].reason
    assert "malformed XML" in skips[1].reason and skips[1].line == 15


def test_non_utf8_alone(tmp_path: Path) -> None:
    text = (FIXTURES / "pubmed_malformed.xml").read_text().replace("<b>markup.", "markup.")
    p = tmp_path / "enc.xml"
    p.write_bytes(text.encode().replace(b"Good two.", b"Good \xe9two."))
    got, err = strict_prefix(p)
    assert got == ["3000001"]
    assert "malformed XML" in str(err) and "line 10" in str(err)
    assert err.record == "#2 after PMID 3000001"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.xml"):
        list(iter_pubmed(empty))
    with pytest.raises(InputError, match="cannot open"):
        list(iter_pubmed(tmp_path / "nope.xml"))


def test_bad_pmid_is_a_record_error(tmp_path: Path) -> None:
    p = tmp_path / "badpmid.xml"
    p.write_text(
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>12a</PMID>"
        "</MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    with pytest.raises(InputError, match="not a number"):
        list(iter_pubmed(p))


def test_skip_bad_without_callback_still_skips() -> None:
    got = [r for r in iter_pubmed(FIXTURES / "pubmed_missing_pmid.xml", skip_bad=True)]
    assert all(isinstance(r, Article) for r in got)
    assert pmids(got) == ["2000001", "2000003"]
