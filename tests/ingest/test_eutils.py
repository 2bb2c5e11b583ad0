"""The E-utilities client: etiquette, rate limit, retries and validation, against a local fake."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest
from lxml import etree

from pubgraph.core.errors import NcbiError
from pubgraph.ingest.eutils import (
    ESEARCH_CAP,
    LINK_CITEDIN,
    LINK_PMC_REFS,
    LINK_REFS,
    EutilsClient,
    HistoryExpired,
    RateLimiter,
    RetryPolicy,
    _parse_retry_after,
    _Retryable,
    check_pubmed_xml,
)
from tests.ingest.fake_eutils import FakeEutils, load_corpus


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils(load_corpus(), timeout_delay=1.0) as f:
        yield f


Retries = list[tuple[int, str, float]]


def make_client(fake: FakeEutils, **kw: object) -> tuple[EutilsClient, Retries]:
    retries: Retries = []
    kw.setdefault("retry", RetryPolicy(max_tries=5, base=0.01, cap=0.05))
    client = EutilsClient(
        fake.url,
        tool="pubgraph-test",
        email="dev@example.org",
        rate=1000.0,
        sleep=lambda s: None,
        timeout=0.3,
        rng=random.Random(7),
        on_retry=lambda what, n, reason, delay: retries.append((n, reason, delay)),
        **kw,  # type: ignore[arg-type]
    )
    return client, retries


def pmids_of(body: bytes) -> list[str]:
    root = etree.parse(io.BytesIO(body)).getroot()
    return [str(p) for p in root.xpath("PubmedArticle/MedlineCitation/PMID/text()")]


# --------------------------------------------------------------------- rate limit, backoff


def test_rate_limiter_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([1.1 / 3] * 6)
    # Never more than 3 request starts inside any one-second window.
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) == 3


def test_rate_limiter_does_not_wait_when_the_caller_was_slow() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    clock.now += 5.0  # work between requests
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.11)
    assert clock.sleeps == [pytest.approx(0.11)]


def test_rate_follows_the_api_key() -> None:
    assert EutilsClient("http://x/").rate == 3.0
    assert EutilsClient("http://x/", api_key="k").rate == 10.0


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_tries=10, base=1.0, cap=20.0)
    rng = random.Random(1)
    for attempt in range(8):
        ceiling = min(20.0, 2.0**attempt)
        delays = {policy.delay(attempt, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    # Retry-After wins when longer than the backoff, but is bounded.
    assert policy.delay(0, rng, retry_after=7.0) == 7.0
    assert policy.delay(0, rng, retry_after=10_000.0) == policy.max_retry_after


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert _parse_retry_after("12", lambda: now) == 12.0
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert _parse_retry_after(later, lambda: now) == pytest.approx(30.0)
    assert _parse_retry_after("soon", lambda: now) is None
    assert _parse_retry_after(None, lambda: now) is None


# --------------------------------------------------------------------- body validation


def _set_of(n: int) -> bytes:
    articles = load_corpus()[:n]
    return (
        b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        + b"\n".join(a.xml for a in articles)
        + b"\n</PubmedArticleSet>\n"
    )


def test_check_pubmed_xml_accepts_a_complete_set() -> None:
    body = _set_of(3)
    assert check_pubmed_xml(body) is body


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_check_pubmed_xml_rejects_a_truncated_set(cut: float) -> None:
    body = _set_of(3)
    with pytest.raises(_Retryable, match="truncated"):
        check_pubmed_xml(body[: int(len(body) * cut)])


def test_check_pubmed_xml_rejects_a_set_that_does_not_parse() -> None:
    body = _set_of(2).replace(b"</ArticleTitle>", b"</ArticleTitl>", 1)
    with pytest.raises(_Retryable, match="unparseable"):
        check_pubmed_xml(body)


def test_check_pubmed_xml_tells_expired_history_from_other_errors() -> None:
    expired = b"<eFetchResult>\n\t<ERROR>Unable to obtain query #1</ERROR>\n</eFetchResult>"
    with pytest.raises(HistoryExpired):
        check_pubmed_xml(b'<?xml version="1.0"?>\n' + expired)
    with pytest.raises(NcbiError, match="ID list is empty") as info:
        check_pubmed_xml(b"<eFetchResult><ERROR>ID list is empty!</ERROR></eFetchResult>")
    assert not isinstance(info.value, HistoryExpired)


# --------------------------------------------------------------------- esearch / efetch / elink


def test_esearch_honours_dates_and_history(fake: FakeEutils) -> None:
    client, _ = make_client(fake)
    lo, hi = date(2017, 1, 1), date(2018, 6, 30)
    r = client.esearch("ampk", mindate=lo, maxdate=hi, retmax=ESEARCH_CAP)
    expected = {a.pmid for a in load_corpus() if lo <= a.pdat <= hi}
    assert r.count == len(expected) > 0
    assert set(r.ids) == expected and len(r.ids) == len(expected)
    assert r.webenv and r.webenv.startswith("MCID_") and r.query_key == "1"
    sent = fake.calls("esearch")[-1].params
    assert sent["mindate"] == ["2017/01/01"] and sent["maxdate"] == ["2018/06/30"]
    assert sent["datetype"] == ["pdat"] and sent["usehistory"] == ["y"]


def test_every_request_carries_tool_email_and_key(fake: FakeEutils) -> None:
    client, _ = make_client(fake, api_key="secret-key")
    client.esearch("x", retmax=1)
    sent = fake.calls("esearch")[-1].params
    assert sent["tool"] == ["pubgraph-test"]
    assert sent["email"] == ["dev@example.org"]
    assert sent["api_key"] == ["secret-key"]


def test_esearch_past_the_cap_is_an_error_naming_the_request(fake: FakeEutils) -> None:
    client, retries = make_client(fake, api_key="secret-key")
    with pytest.raises(NcbiError) as info:
        client.esearch("cancer", retstart=ESEARCH_CAP + 1, retmax=10)
    message = str(info.value)
    assert message.startswith("esearch (term 'cancer')")
    assert "cannot be larger than 9998" in message
    assert "secret-key" not in message
    assert retries == [] and len(fake.calls("esearch")) == 1  # a 400 is not retried


def test_efetch_from_history_and_by_ids_agree(fake: FakeEutils) -> None:
    client, _ = make_client(fake)
    r = client.esearch("x", retmax=ESEARCH_CAP)
    by_history = client.efetch_pubmed(webenv=r.webenv, query_key=r.query_key, retstart=10, retmax=7)
    assert pmids_of(by_history) == list(r.ids[10:17])
    by_ids = client.efetch_pubmed(ids=r.ids[10:17])
    assert by_ids == by_history


def test_plain_bodies_work_without_gzip(fake: FakeEutils) -> None:
    zipped, _ = make_client(fake)
    plain, _ = make_client(fake, accept_gzip=False)
    ids = [a.pmid for a in load_corpus()[:4]]
    assert plain.efetch_pubmed(ids=ids) == zipped.efetch_pubmed(ids=ids)


FAULTS = ["429", "500", "502", "503", "timeout", "truncate", "cut", "reset"]


@pytest.mark.parametrize("kind", FAULTS)
def test_efetch_recovers_from_a_transient_fault(fake: FakeEutils, kind: str) -> None:
    client, retries = make_client(fake)
    ids = [a.pmid for a in load_corpus()[20:45]]
    clean = client.efetch_pubmed(ids=ids)
    fake.inject("efetch", kind, times=2)
    assert client.efetch_pubmed(ids=ids) == clean
    assert [n for n, _, _ in retries] == [1, 2]
    assert [r.fault for r in fake.calls("efetch")] == [None, kind, kind, None]


def test_retry_after_is_respected(fake: FakeEutils) -> None:
    client, retries = make_client(fake)
    fake.inject("esearch", "429", retry_after="7")
    client.esearch("x", retmax=0)
    assert retries and retries[0][1] == "HTTP 429" and retries[0][2] == 7.0


def test_a_fault_that_persists_ends_in_ncbi_error_naming_the_batch(fake: FakeEutils) -> None:
    client, retries = make_client(fake, retry=RetryPolicy(max_tries=3, base=0.01, cap=0.02))
    fake.inject("efetch", "503", times=10)
    with pytest.raises(NcbiError) as info:
        client.efetch_pubmed(ids=["1304740", "1315496"], label="slice 1992, batch 4")
    assert str(info.value) == (
        "efetch (slice 1992, batch 4): failed after 3 tries; last error: HTTP 503"
    )
    assert len(retries) == 2 and len(fake.calls("efetch")) == 3


def test_expired_history_raises_history_expired(fake: FakeEutils) -> None:
    client, retries = make_client(fake)
    r = client.esearch("x", retmax=5)
    fake.expire_all()
    with pytest.raises(HistoryExpired, match="Unable to obtain query #1"):
        client.efetch_pubmed(webenv=r.webenv, query_key=r.query_key)
    assert retries == []


def test_elink_answers_per_input_id(fake: FakeEutils) -> None:
    client, _ = make_client(fake)
    corpus = load_corpus()
    citing = [a for a in corpus if a.refs][:5]
    ids = [a.pmid for a in citing] + ["1"]  # "1" has no links
    refs = client.elink(ids, linkname=LINK_REFS)
    assert refs == {**{a.pmid: list(a.refs) for a in citing}, "1": []}
    sent = fake.calls("elink")[-1].params
    assert sent["id"] == ids and sent["cmd"] == ["neighbor"]
    assert sent["linkname"] == [LINK_REFS] and sent["dbfrom"] == ["pubmed"]

    cited = citing[0].refs[0]
    by = client.elink([cited], linkname=LINK_CITEDIN)
    assert citing[0].pmid in by[cited]
    assert set(by[cited]) == {a.pmid for a in corpus if cited in a.refs}

    in_pmc = next(a for a in corpus if a.pmc and a.refs)
    pmc = client.elink([in_pmc.pmc or ""], linkname=LINK_PMC_REFS, dbfrom="pmc")
    assert pmc == {in_pmc.pmc: list(in_pmc.refs)}
    assert fake.calls("elink")[-1].params["dbfrom"] == ["pmc"]


def test_elink_retries_a_truncated_answer(fake: FakeEutils) -> None:
    client, retries = make_client(fake)
    a = next(x for x in load_corpus() if x.refs)
    fake.inject("elink", "truncate")
    assert client.elink([a.pmid], linkname=LINK_REFS) == {a.pmid: list(a.refs)}
    assert len(retries) == 1 and "unparseable" in retries[0][1]
