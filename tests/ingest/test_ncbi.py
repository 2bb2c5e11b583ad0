"""The resumable PubMed sync against the fake E-utilities server serving real records."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import InputError
from pubgraph.ingest.eutils import ESEARCH_CAP, EutilsClient, RetryPolicy
from pubgraph.ingest.ncbi import (
    SKIP_MISSING,
    SKIP_OVER_CAP,
    DateSlice,
    SyncOptions,
    SyncSummary,
    merge_references,
    plan_slices,
    sync_pubmed,
    transform_batch,
)
from pubgraph.ingest.pubmed import iter_pubmed
from pubgraph.ingest.records import Article, Deletion, Record, Reference, to_row
from tests.ingest.fake_eutils import (
    SHARED,
    SMALL_FILES,
    FakeArticle,
    FakeEutils,
    links_from_corpus,
    load_corpus,
    strip_references,
)

ALL_TIME = (date(1900, 1, 1), date(2030, 12, 31))


class Crash(Exception):
    """Stands in for the process dying between two batches."""


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils(load_corpus(), timeout_delay=1.0) as f:
        yield f


@pytest.fixture(scope="module")
def parsed_rows() -> dict[str, dict[str, Any]]:
    """The shared files parsed directly: what every synced row must equal."""
    rows: dict[str, dict[str, Any]] = {}
    for path in SMALL_FILES:
        for rec in iter_pubmed(path):
            rows.setdefault(rec.pmid, to_row(rec))
    return rows


def client_for(fake: FakeEutils) -> EutilsClient:
    return EutilsClient(
        fake.url,
        email="dev@example.org",
        rate=1000.0,
        sleep=lambda s: None,
        timeout=0.3,
        retry=RetryPolicy(max_tries=5, base=0.01, cap=0.05),
        rng=random.Random(3),
    )


def options(tmp: Path, name: str = "run", **kw: Any) -> SyncOptions:
    lo, hi = kw.pop("dates", ALL_TIME)
    kw.setdefault("batch_size", 50)
    return SyncOptions(
        query="fake query",
        mindate=lo,
        maxdate=hi,
        out=tmp / f"{name}.parquet",
        cache_dir=tmp / f"{name}-cache",
        **kw,
    )


def rows_of(path: Path) -> dict[str, dict[str, Any]]:
    rows = pq.read_table(path).to_pylist()
    pmids = [r["pmid"] for r in rows]
    assert len(pmids) == len(set(pmids)), "a PMID occurs twice in the output"
    return {r["pmid"]: r for r in rows}


def without_source(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {c: v for c, v in r.items() if c != "source_file"} for k, r in rows.items()}


def served(fake: FakeEutils, lo: date = ALL_TIME[0], hi: date = ALL_TIME[1]) -> set[str]:
    return {a.pmid for a in fake.articles if lo <= a.pdat <= hi}


# --------------------------------------------------------------------- pure steps


def test_transform_batch_drops_held_and_repeated_pmids() -> None:
    recs: list[Record] = [Article(pmid="1"), Article(pmid="2"), Article(pmid="1"), Deletion("3")]
    new, dups = transform_batch(recs, held={"2"})
    assert [r.pmid for r in new] == ["1", "3"]
    assert dups == ["2", "1"]


def test_merge_references_adds_each_linked_pmid_once() -> None:
    xml_refs = (
        Reference(pmid="10", doi="10.1/x", citation="A. 1990"),
        Reference(citation="unlinked book"),
    )
    article = Article(pmid="99", title="t", references=xml_refs)
    merged, added = merge_references(article, ["10", "11", "11", "99", "12"])
    assert merged.references[:2] == xml_refs  # XML references first, untouched
    assert merged.references[2:] == (Reference(pmid="11"), Reference(pmid="12"))
    assert added == 2
    assert merged.title == "t"
    assert merge_references(article, ["10"]) == (article, 0)


# --------------------------------------------------------------------- date slicing


def test_plan_slices_halves_ranges_over_the_cap(fake: FakeEutils) -> None:
    spike = date(2022, 2, 2)

    def count(lo: date, hi: date) -> int:
        return 60 * ((hi - lo).days + 1) + (20_000 if lo <= spike <= hi else 0)

    fake.synthetic_count = count
    lo, hi = date(2020, 1, 1), date(2024, 12, 31)
    slices = plan_slices(client_for(fake), "cancer immunotherapy", lo, hi)
    assert slices[0].mindate == lo and slices[-1].maxdate == hi
    for a, b in itertools.pairwise(slices):
        assert b.mindate == a.maxdate + timedelta(days=1)  # no gap, no overlap
    assert sum(s.count for s in slices) == count(lo, hi)
    assert [s for s in slices if s.count > ESEARCH_CAP] == [DateSlice(spike, spike, 20_060)]
    assert all(s.count <= ESEARCH_CAP for s in slices if s.mindate != spike)
    assert len(slices) >= count(lo, hi) // ESEARCH_CAP
    counted = [r for r in fake.calls("esearch")]
    assert all(r.params["retmax"] == ["0"] and "usehistory" not in r.params for r in counted)


def test_plan_slices_keeps_a_small_range_whole(fake: FakeEutils) -> None:
    slices = plan_slices(client_for(fake), "q", *ALL_TIME)
    assert slices == [DateSlice(*ALL_TIME, len(load_corpus()))]
    assert len(fake.calls("esearch")) == 1


# --------------------------------------------------------------------- end to end


def test_sync_writes_every_record_once_as_parsed(
    fake: FakeEutils, tmp_path: Path, parsed_rows: dict[str, dict[str, Any]]
) -> None:
    summary = sync_pubmed(client_for(fake), options(tmp_path, cap=40))
    rows = rows_of(tmp_path / "run.parquet")
    assert set(rows) == served(fake)
    assert without_source(rows) == without_source(parsed_rows)
    assert summary.slices > 8  # 314 records under a cap of 40
    assert summary.articles == len(rows)
    assert summary.with_abstract == sum(bool(r["abstract"]) for r in rows.values())
    assert summary.with_mesh == sum(bool(r["mesh"]) for r in rows.values())
    assert summary.references == sum(len(r["references"]) for r in rows.values())
    assert summary.skipped == {}
    assert all(Path(r["source_file"]).is_file() for r in rows.values())  # the cached answer


def test_sync_by_date_range_and_max(fake: FakeEutils, tmp_path: Path) -> None:
    lo, hi = date(2017, 1, 1), date(2018, 12, 31)
    summary = sync_pubmed(client_for(fake), options(tmp_path, dates=(lo, hi)))
    assert set(rows_of(tmp_path / "run.parquet")) == served(fake, lo, hi)
    assert summary.articles == len(served(fake, lo, hi))

    capped = sync_pubmed(client_for(fake), options(tmp_path, "max", max_records=37, batch_size=20))
    rows = rows_of(tmp_path / "max.parquet")
    assert len(rows) == capped.articles == 37
    assert set(rows) <= served(fake)


def test_a_day_over_the_cap_is_fetched_up_to_the_cap_and_reported(
    fake: FakeEutils, tmp_path: Path
) -> None:
    lo, hi = date(1990, 1, 1), date(1993, 12, 31)
    cap = 5
    per_day = Counter(a.pdat for a in fake.articles if lo <= a.pdat <= hi)
    over = {d: n - cap for d, n in per_day.items() if n > cap}
    assert over, "the corpus has a day with more records than the test cap"
    fake.cap = cap
    summary = sync_pubmed(client_for(fake), options(tmp_path, dates=(lo, hi), cap=cap))
    rows = rows_of(tmp_path / "run.parquet")
    assert summary.skipped == {SKIP_OVER_CAP: sum(over.values())}
    assert len(rows) == sum(per_day.values()) - sum(over.values())
    for day in over:
        assert sum(1 for p in rows if fake.by_pmid[p].pdat == day) == cap


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("efetch", "429"),
        ("efetch", "500"),
        ("efetch", "timeout"),
        ("efetch", "truncate"),
        ("efetch", "cut"),
        ("efetch", "reset"),
        ("efetch", "expire"),
        ("esearch", "503"),
        ("esearch", "truncate"),
    ],
)
def test_sync_survives_faults_with_every_record_once(
    fake: FakeEutils, tmp_path: Path, endpoint: str, kind: str
) -> None:
    fake.inject(endpoint, kind, skip=2, times=1 if kind == "expire" else 2)
    summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=40, cap=200))
    assert set(rows_of(tmp_path / "run.parquet")) == served(fake)
    assert summary.articles == len(served(fake))
    assert any(r.fault == kind for r in fake.log)
    if kind != "expire":
        assert summary.retries == 2
    assert summary.skipped == {}


def test_expired_webenv_mid_run_searches_again_and_goes_on_by_pmid(
    fake: FakeEutils, tmp_path: Path
) -> None:
    fake.inject("efetch", "expire", skip=2)
    sync_pubmed(client_for(fake), options(tmp_path, batch_size=40))
    searches = [r for r in fake.calls("esearch") if r.params.get("usehistory") == ["y"]]
    assert len(searches) == 2  # the slice, then again once its WebEnv was gone
    fetches = fake.calls("efetch")
    assert [("id" in r.params) for r in fetches[:3]] == [False, False, False]
    assert all("id" in r.params for r in fetches[3:])  # by PMID set after the expiry
    asked = [i for r in fetches[3:] for i in r.params["id"][0].split(",")]
    assert len(asked) == len(set(asked)) == len(served(fake)) - 80


def test_records_listed_but_not_served_are_asked_once_by_id_and_reported(
    fake: FakeEutils, tmp_path: Path
) -> None:
    gone = {a.pmid for a in load_corpus()[100:102]}
    fake.withheld = gone
    summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=40))
    assert set(rows_of(tmp_path / "run.parquet")) == served(fake) - gone
    assert summary.skipped == {SKIP_MISSING: 2}
    by_id = [r.params["id"][0].split(",") for r in fake.calls("efetch") if "id" in r.params]
    assert sorted(i for ids in by_id for i in ids) == sorted(gone)


def test_a_record_the_parser_rejects_is_reported_once_and_not_refetched_forever(
    tmp_path: Path,
) -> None:
    corpus = load_corpus()
    broken = corpus[7]
    bad_xml = broken.xml.replace(f"<PMID Version=\"1\">{broken.pmid}</PMID>".encode(), b"", 1)
    assert bad_xml != broken.xml
    articles = tuple(
        FakeArticle(a.pmid, a.pdat, bad_xml, a.pmc, a.refs) if a is broken else a for a in corpus
    )
    with FakeEutils(articles) as fake:
        summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=40))
        by_id = [r for r in fake.calls("efetch") if "id" in r.params]
    assert set(rows_of(tmp_path / "run.parquet")) == {a.pmid for a in corpus} - {broken.pmid}
    assert summary.skipped == {"unparseable record: record has no PMID": 1}
    assert [r.params["id"] for r in by_id] == [[broken.pmid]]  # asked again by id once


# --------------------------------------------------------------------- resume


def crash_after(n: int) -> Callable[[int], None]:
    def hook(done: int) -> None:
        if done == n:
            raise Crash(f"killed after batch {done}")

    return hook


def test_resume_after_a_crash_matches_an_uninterrupted_run(
    fake: FakeEutils, tmp_path: Path
) -> None:
    full = sync_pubmed(client_for(fake), options(tmp_path, "full", cap=120))
    expected = without_source(rows_of(tmp_path / "full.parquet"))
    fetched_full = len(fake.calls("efetch"))

    fake.log.clear()
    with pytest.raises(Crash):
        sync_pubmed(client_for(fake), options(tmp_path, cap=120), after_batch=crash_after(3))
    assert not (tmp_path / "run.parquet").exists()
    assert len(fake.calls("efetch")) == 3

    fake.log.clear()
    resumed = sync_pubmed(client_for(fake), options(tmp_path, cap=120, resume=True))
    assert without_source(rows_of(tmp_path / "run.parquet")) == expected
    assert len(fake.calls("efetch")) == fetched_full - 3  # nothing fetched twice
    assert not [r for r in fake.calls("esearch") if r.params["retmax"] == ["0"]]  # plan kept
    assert resumed.resumed and resumed.batches == full.batches
    assert resumed.articles == full.articles


def test_resume_with_an_expired_webenv_continues_by_pmid_set(
    fake: FakeEutils, tmp_path: Path
) -> None:
    with pytest.raises(Crash):
        sync_pubmed(client_for(fake), options(tmp_path, batch_size=30), after_batch=crash_after(4))
    fake.expire_all()
    fake.log.clear()
    summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=30, resume=True))
    assert set(rows_of(tmp_path / "run.parquet")) == served(fake)
    assert summary.articles == len(served(fake)) and summary.skipped == {}
    assert len(fake.calls("esearch")) == 1  # the slice searched again
    by_id = [r for r in fake.calls("efetch") if "id" in r.params]
    asked = [i for r in by_id for i in r.params["id"][0].split(",")]
    assert len(asked) == len(set(asked)) == len(served(fake)) - 4 * 30


def test_a_crash_between_writing_a_batch_and_the_manifest_loses_nothing(
    fake: FakeEutils, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pubgraph.ingest.ncbi as ncbi

    real_save = ncbi._Cache.save
    calls = {"n": 0}

    def flaky_save(self: Any, manifest: dict[str, Any]) -> None:
        calls["n"] += 1
        if len(manifest["batches"]) == 2:
            raise Crash("died before the watermark of batch 2 was written")
        real_save(self, manifest)

    monkeypatch.setattr(ncbi._Cache, "save", flaky_save)
    with pytest.raises(Crash):
        sync_pubmed(client_for(fake), options(tmp_path, batch_size=60))
    monkeypatch.setattr(ncbi._Cache, "save", real_save)
    summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=60, resume=True))
    assert set(rows_of(tmp_path / "run.parquet")) == served(fake)
    assert summary.skipped == {}


def test_a_used_cache_needs_resume_and_the_same_query(fake: FakeEutils, tmp_path: Path) -> None:
    with pytest.raises(Crash):
        sync_pubmed(client_for(fake), options(tmp_path), after_batch=crash_after(1))
    with pytest.raises(InputError, match="pass --resume"):
        sync_pubmed(client_for(fake), options(tmp_path))
    other = SyncOptions(
        query="another query",
        mindate=ALL_TIME[0],
        maxdate=ALL_TIME[1],
        out=tmp_path / "x.parquet",
        cache_dir=tmp_path / "run-cache",
        resume=True,
    )
    with pytest.raises(InputError, match="another run"):
        sync_pubmed(client_for(fake), other)


# --------------------------------------------------------------------- citations


def _citation_fake() -> tuple[FakeEutils, dict[str, set[str]], str, str]:
    """Records served without their reference list, links kept in elink.

    Returns the fake, the expected PMID references per stripped article, the article whose
    references only PMC has (``pmc_refs_pubmed``) and the one only ``citedin`` reveals.
    """
    corpus = load_corpus()
    pmids = {a.pmid for a in corpus}
    cited = [a for a in corpus if a.refs]
    stripped = {a.pmid for a in cited[::2]}
    pmc_only = next(a for a in cited if a.pmid in stripped and a.pmc)
    citedin_only = next(
        a for a in cited if a.pmid in stripped and a is not pmc_only and set(a.refs) & pmids
    )
    links = links_from_corpus(corpus)
    del links["pubmed_pubmed_refs"][pmc_only.pmid]
    del links["pubmed_pubmed_refs"][citedin_only.pmid]
    links["pmc_refs_pubmed"].pop(citedin_only.pmc or "", None)
    served_articles: tuple[FakeArticle, ...] = tuple(
        strip_references(a) if a.pmid in stripped else a for a in corpus
    )
    # A record listing itself among its references gets no self-citation from elink.
    expected = {p: set(a.refs) - {p} for a in corpus if (p := a.pmid) in stripped}
    expected[citedin_only.pmid] = (set(citedin_only.refs) & pmids) - {citedin_only.pmid}
    return FakeEutils(served_articles, links=links), expected, pmc_only.pmid, citedin_only.pmid


def _pmid_refs(row: dict[str, Any]) -> set[str]:
    return {r["pmid"] for r in row["references"] if r["pmid"]}


def test_citations_from_elink_become_references(tmp_path: Path) -> None:
    fake, expected, pmc_only, citedin_only = _citation_fake()
    with fake:
        plain = sync_pubmed(client_for(fake), options(tmp_path, "plain"))
        plain_rows = rows_of(tmp_path / "plain.parquet")
        assert all(_pmid_refs(plain_rows[p]) == set() for p in expected)

        summary: SyncSummary = sync_pubmed(
            client_for(fake), options(tmp_path, "cites", with_citations=True)
        )
    rows = rows_of(tmp_path / "cites.parquet")
    assert set(rows) == set(plain_rows)
    for pmid, refs in expected.items():
        assert _pmid_refs(rows[pmid]) == refs, pmid
    assert _pmid_refs(rows[pmc_only]) and _pmid_refs(rows[citedin_only])
    for pmid, row in rows.items():  # XML references kept as they were, nothing doubled
        assert (
            row["references"][: len(plain_rows[pmid]["references"])]
            == (plain_rows[pmid]["references"])
        )
        linked = [r["pmid"] for r in row["references"] if r["pmid"]]
        assert len(linked) == len(set(linked))
    added = sum(len(r["references"]) for r in rows.values()) - plain.references
    assert summary.references_from_elink == added == sum(len(v) for v in expected.values())
    linknames = Counter(r.params["linkname"][0] for r in fake.calls("elink"))
    assert set(linknames) == {"pubmed_pubmed_refs", "pubmed_pubmed_citedin", "pmc_refs_pubmed"}


def test_citations_added_on_resume_cover_earlier_batches(tmp_path: Path) -> None:
    fake, expected, _, _ = _citation_fake()
    with fake:
        with pytest.raises(Crash):
            sync_pubmed(client_for(fake), options(tmp_path), after_batch=crash_after(3))
        sync_pubmed(client_for(fake), options(tmp_path, resume=True, with_citations=True))
    rows = rows_of(tmp_path / "run.parquet")
    for pmid, refs in expected.items():
        assert _pmid_refs(rows[pmid]) == refs


# --------------------------------------------------------------------- at PubMed's real cap


@pytest.mark.slow
def test_thirty_thousand_records_through_the_real_cap(tmp_path: Path) -> None:
    """A whole baseline file (30,000 records, 1976-80) served under the real 9,999 cap."""
    big = SHARED / "pubmed" / "pubmed20n0014.xml.gz"
    if not big.is_file():
        pytest.skip(f"{big} not found")
    corpus = load_corpus.__wrapped__((big,))  # not kept in the cache after the test
    with FakeEutils(corpus) as fake:
        dates = (date(1970, 1, 1), date(1985, 12, 31))
        summary = sync_pubmed(client_for(fake), options(tmp_path, batch_size=500, dates=dates))
        counted = [r for r in fake.calls("esearch") if r.params["retmax"] == ["0"]]
    table = pq.read_table(tmp_path / "run.parquet", columns=["pmid", "record_type"])
    pmids = table.column("pmid").to_pylist()
    assert len(pmids) == len(set(pmids)) == len(corpus) == 30_000
    assert set(pmids) == {a.pmid for a in corpus}
    assert summary.articles == 30_000 and summary.skipped == {}
    assert summary.slices >= 4  # 30,000 records need at least four slices of <= 9,999
    assert len(counted) >= 2 * summary.slices - 1  # each split costs two counts
