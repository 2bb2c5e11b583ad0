"""Property-based fuzzing of the XML readers with mutations of REAL records (PubMed from
pubmed_small, JATS from the shared PMC files): byte flips, truncation, tag deletion,
invalid UTF-8, huge fields, deep nesting. Properties:

* strict mode: only pubgraph's own errors escape (InputError), naming the file and record;
* --skip-bad: every intact record is kept (every record before a truncation point), and
  the damaged one is either read or reported, never silently gone with others.

The example counts are bounded (``EXAMPLES``); the number run is written to the report."""

from __future__ import annotations

import itertools
import json
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pubgraph.core.errors import InputError
from pubgraph.core.settings import shared_data_dir
from pubgraph.ingest.files import iter_file_records
from pubgraph.ingest.records import Article
from pubgraph.ingest.xmlstream import SkipInfo
from tests.reliability.helpers import REPO

pytestmark = pytest.mark.reliability

EXAMPLES = {"pubmed": 80, "jats": 40}
RECORDS = 6
_RUN = {"pubmed": 0, "jats": 0}
REPORT = REPO / ".pytest-reliability.json"


@cache
def pubmed_records() -> tuple[bytes, tuple[bytes, ...]]:
    """(head, records): the first RECORDS articles of a pubmed_small file."""
    data = (shared_data_dir() / "pubmed_small" / "il6_cytokine_100.xml").read_bytes()
    starts = [m.start() for m in re.finditer(rb"<PubmedArticle>", data)][: RECORDS + 1]
    recs = tuple(data[a:b] for a, b in itertools.pairwise(starts))
    return data[: starts[0]], recs


@cache
def jats_records() -> tuple[bytes, tuple[bytes, ...]]:
    """(head, records): the shared PMC articles as one <pmc-articleset>."""
    recs = []
    for path in sorted((shared_data_dir() / "pmc").glob("*.nxml"))[:RECORDS]:
        data = path.read_bytes()
        start = data.index(b"<article ")
        recs.append(data[start: data.rindex(b"</article>") + len(b"</article>")] + b"\n")
    return b'<?xml version="1.0" encoding="utf-8"?>\n<pmc-articleset>\n', tuple(recs)


def _ids(records: tuple[bytes, ...], kind: str) -> list[str]:
    pattern = (rb"<PMID[^>]*>(\d+)</PMID>" if kind == "pubmed"
               else rb'<article-id pub-id-type="pmc">(?:PMC)?(\d+)</article-id>')
    out = []
    for r in records:
        m = re.search(pattern, r)
        assert m is not None
        out.append(m.group(1).decode())
    return out


def _key(article: Article, kind: str) -> str:
    return article.pmid if kind == "pubmed" else (article.pmcid or "").removeprefix("PMC")


class Case(tuple):  # type: ignore[type-arg]
    """(data, damaged index, mutation, cut) with a short repr (hypothesis prints failures)."""

    def __repr__(self) -> str:
        data, i, what, cut = self
        return f"Case({what} in record {i}, {len(data):,} bytes, cut={cut})"


MUTATIONS = ("flip", "truncate", "delete_tag", "bad_utf8", "huge_field", "deep_nesting")


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> tuple[bytes, int, str, int | None]:
    """(file bytes, damaged record index, mutation, truncation offset or None)."""
    head, records = pubmed_records() if kind == "pubmed" else jats_records()
    tail = b"</PubmedArticleSet>\n" if kind == "pubmed" else b"</pmc-articleset>\n"
    i = draw(st.integers(0, len(records) - 1))
    what = draw(st.sampled_from(MUTATIONS))
    rec = records[i]
    cut: int | None = None
    if what == "flip":
        pos = draw(st.integers(0, len(rec) - 1))
        bit = draw(st.integers(0, 7))
        rec = rec[:pos] + bytes([rec[pos] ^ (1 << bit)]) + rec[pos + 1:]
    elif what == "delete_tag":
        tags = list(re.finditer(rb"</?[A-Za-z][^<>]*>", rec))
        m = tags[draw(st.integers(0, len(tags) - 1))]
        rec = rec[: m.start()] + rec[m.end():]
    elif what == "bad_utf8":
        pos = draw(st.integers(0, len(rec)))
        rec = rec[:pos] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80",
                                                b"\x00", b"\xf8\x88\x80\x80\x80"])) + rec[pos:]
    elif what in ("huge_field", "deep_nesting"):
        texts = [m.end() for m in re.finditer(rb">[A-Za-z]", rec)]
        pos = texts[draw(st.integers(0, len(texts) - 1))] - 1
        size = draw(st.integers(1, 4))
        insert = (b"x" * (size * 1_000_000) if what == "huge_field"
                  else b"<i>" * (size * 1500) + b"deep" + b"</i>" * (size * 1500))
        rec = rec[:pos] + insert + rec[pos:]
    data = head + b"".join(records[:i]) + rec + b"".join(records[i + 1:]) + tail
    if what == "truncate":
        start = len(head) + sum(len(r) for r in records[:i])
        cut = draw(st.integers(start, start + len(rec) - 1))
        data = data[:cut]
    return Case((data, i, what, cut))


def _check(tmp_path: Path, kind: str, case: tuple[bytes, int, str, int | None]) -> None:
    data, damaged, what, _ = case
    _RUN[kind] += 1
    _, records = pubmed_records() if kind == "pubmed" else jats_records()
    ids = _ids(records, kind)
    path = tmp_path / ("case.xml" if kind == "pubmed" else "case.nxml")
    path.write_bytes(data)

    # strict: only InputError, naming file and record
    try:
        for _ in iter_file_records(path):
            pass
    except InputError as exc:
        assert str(path) in str(exc) and "record" in str(exc), str(exc)

    # skip-bad: every intact record kept
    skips: list[SkipInfo] = []
    got = [_key(r, kind) for r in iter_file_records(path, skip_bad=True, on_skip=skips.append)
           if isinstance(r, Article)]
    intact = ids[:damaged] if what == "truncate" else ids[:damaged] + ids[damaged + 1:]
    missing = [x for x in intact if x not in got]
    assert not missing, (what, damaged, missing, skips)
    assert len(got) <= len(ids) + 1  # nothing invented (a flip may split nothing in two)
    if ids[damaged] not in got and what != "truncate":
        assert any(s.lost_record for s in skips), (what, damaged, skips)
    for s in skips:
        assert s.file == str(path)


@settings(max_examples=EXAMPLES["pubmed"], deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=mutated("pubmed"))
def test_fuzz_pubmed_records(tmp_path: Path, shared_data: Path,
                             case: tuple[bytes, int, str, int | None]) -> None:
    _check(tmp_path, "pubmed", case)


@settings(max_examples=EXAMPLES["jats"], deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(case=mutated("jats"))
def test_fuzz_jats_records(tmp_path: Path, shared_data: Path,
                           case: tuple[bytes, int, str, int | None]) -> None:
    _check(tmp_path, "jats", case)


def test_zz_report_fuzz_counts() -> None:
    """Write the number of fuzz cases run (for docs/reliability.md)."""
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data["fuzz_cases"] = dict(_RUN)
    REPORT.write_text(json.dumps(data, indent=1))
