"""A local fake of NCBI E-utilities (esearch, efetch, elink) for tests.

It serves real PubMed records read at run time from the shared data directory (never
copied into the repository), with their real PMIDs and their real ``PubDate`` as the
publication date used by ``mindate``/``maxdate``. It answers in NCBI's formats:

- ``esearch.fcgi``: ``eSearchResult`` XML (Count, RetMax, RetStart, QueryKey, WebEnv,
  IdList) honouring ``usehistory``, ``datetype=pdat``/``mindate``/``maxdate``,
  ``retstart``/``retmax`` and the PubMed cap (``retstart`` > cap - 1 is an HTTP 400 with
  NCBI's message; a window crossing the cap is clamped without a word, as NCBI does);
- ``efetch.fcgi``: a ``PubmedArticleSet`` by ``id=`` or from the history server
  (``WebEnv``/``query_key``/``retstart``/``retmax``); an unknown or expired WebEnv gets
  NCBI's in-band ``eFetchResult``/``ERROR`` "Unable to obtain query #1";
- ``elink.fcgi``: ``eLinkResult`` with one ``LinkSet`` per ``id=`` parameter
  (``cmd=neighbor``), links taken from the records' own reference lists by default.

Faults are injected per endpoint: HTTP 429 with ``Retry-After``, 5xx, a timeout (the
handler sleeps past the client's timeout), a body cut short behind a correct
``Content-Length`` (``truncate``), a connection dropped mid-body (``cut``) or before any
answer (``reset``), and expiring every WebEnv (``expire``).
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from pubgraph.core.settings import shared_data_dir

REPO = Path(__file__).resolve().parents[2]
SHARED = shared_data_dir()
SMALL_FILES = tuple(sorted((SHARED / "pubmed_small").glob("*.xml")))

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}

ESEARCH_DOCTYPE = (
    b'<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
ELINK_DOCTYPE = (
    b'<!DOCTYPE eLinkResult PUBLIC "-//NLM//DTD elink 20101123//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20101123/elink.dtd">\n'
)
EFETCH_DOCTYPE = (
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
EFETCH_ERROR_DOCTYPE = (
    b'<!DOCTYPE eEfetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
    b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
)
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" ?>\n'


@dataclass(frozen=True)
class FakeArticle:
    """One served record: its PMID, publication date, PMC number and reference PMIDs."""

    pmid: str
    pdat: date
    xml: bytes
    pmc: str | None = None
    refs: tuple[str, ...] = ()


def _pub_date(article: Any) -> date:
    pd = article.find("MedlineCitation/Article/Journal/JournalIssue/PubDate")
    year = pd.findtext("Year") if pd is not None else None
    if not year and pd is not None:
        m = re.search(r"\d{4}", pd.findtext("MedlineDate") or "")
        year = m.group(0) if m else None
    if not year:
        year = article.findtext("MedlineCitation/DateRevised/Year") or "1900"
    month_text = (pd.findtext("Month") if pd is not None else None) or "1"
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3].lower(), 1)
    day_text = (pd.findtext("Day") if pd is not None else None) or "1"
    day = int(day_text) if day_text.isdigit() else 1
    return date(int(year), month, day)


def _articles_from(path: Path) -> Iterator[FakeArticle]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for _, el in etree.iterparse(fh, tag="PubmedArticle"):
            pmid = el.findtext("MedlineCitation/PMID")
            pmc = el.findtext("PubmedData/ArticleIdList/ArticleId[@IdType='pmc']")
            refs = tuple(
                dict.fromkeys(
                    r.text.strip()
                    for r in el.iterfind(
                        "PubmedData/ReferenceList/Reference/ArticleIdList/ArticleId"
                        "[@IdType='pubmed']"
                    )
                    if r.text and r.text.strip().isdigit()
                )
            )
            el.tail = None
            yield FakeArticle(
                pmid=str(pmid),
                pdat=_pub_date(el),
                xml=etree.tostring(el),
                pmc=pmc[3:] if pmc and pmc.upper().startswith("PMC") else pmc,
                refs=refs,
            )
            el.clear()
            while el.getprevious() is not None:
                del el.getparent()[0]


@lru_cache(maxsize=4)
def load_corpus(paths: tuple[Path, ...] = SMALL_FILES) -> tuple[FakeArticle, ...]:
    """The records of ``paths`` (default: the three shared ``pubmed_small`` files)."""
    if not paths:
        pytest.skip(f"shared PubMed data not found under {SHARED}")
    seen: dict[str, FakeArticle] = {}
    for p in paths:
        for a in _articles_from(p):
            seen.setdefault(a.pmid, a)
    return tuple(seen.values())


def strip_references(article: FakeArticle) -> FakeArticle:
    """The same record served without its ``ReferenceList`` (links stay in elink)."""
    root = etree.fromstring(article.xml)
    for rl in root.findall("PubmedData/ReferenceList"):
        rl.getparent().remove(rl)
    return FakeArticle(article.pmid, article.pdat, etree.tostring(root), article.pmc, article.refs)


def links_from_corpus(articles: tuple[FakeArticle, ...]) -> dict[str, dict[str, list[str]]]:
    """NCBI-like link tables from the records' reference lists.

    ``pubmed_pubmed_refs``: what each article cites; ``pubmed_pubmed_citedin``: which
    served articles cite it; ``pmc_refs_pubmed`` keyed by the numeric PMC id.
    """
    refs = {a.pmid: list(a.refs) for a in articles if a.refs}
    citedin: dict[str, list[str]] = {}
    for a in articles:
        for r in a.refs:
            citedin.setdefault(r, []).append(a.pmid)
    pmc = {a.pmc: list(a.refs) for a in articles if a.pmc and a.refs}
    return {"pubmed_pubmed_refs": refs, "pubmed_pubmed_citedin": citedin, "pmc_refs_pubmed": pmc}


@dataclass
class Fault:
    """Answer the next ``times`` requests to ``endpoint`` badly, after letting ``skip`` pass."""

    endpoint: str  # "esearch" | "efetch" | "elink" | "*"
    # "429" | "500" | "502" | "503" | "timeout" | "truncate" | "cut" | "reset" | "expire"
    # | "400-echo" (a 400 whose JSON body echoes the API key, as NCBI's does)
    kind: str
    times: int = 1
    skip: int = 0
    retry_after: str | None = None
    fired: int = 0


@dataclass
class Request:
    endpoint: str
    params: dict[str, list[str]]
    fault: str | None = None


def _parse_date(text: str) -> date:
    parts = [int(p) for p in re.split(r"[/-]", text.strip()) if p]
    while len(parts) < 3:
        parts.append(1)
    return date(parts[0], parts[1], parts[2])


def _parse_max_date(text: str) -> date:
    parts = [int(p) for p in re.split(r"[/-]", text.strip()) if p]
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    if len(parts) == 2:
        nxt = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return date(parts[0], parts[1], parts[2])


@dataclass
class FakeEutils:
    """The fake server's state; ``start()`` serves it on 127.0.0.1 on a free port."""

    articles: tuple[FakeArticle, ...]
    links: dict[str, dict[str, list[str]]] | None = None
    cap: int = 9999
    #: Count per date range for searches that only count (``retmax=0``), for slicing tests
    #: over volumes bigger than the served records.
    synthetic_count: Callable[[date, date], int] | None = None
    timeout_delay: float = 2.0
    #: Seconds every efetch waits before answering (lets a test kill a client mid-run).
    efetch_delay: float = 0.0
    gzip: bool = True
    #: PMIDs esearch lists but efetch leaves out (records withdrawn between the two).
    withheld: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    histories: dict[str, list[str]] = field(default_factory=dict)
    expired: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_pmid = {a.pmid: a for a in self.articles}
        if self.links is None:
            self.links = links_from_corpus(self.articles)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/"

    def start(self) -> FakeEutils:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeEutils:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(
        self,
        endpoint: str,
        kind: str,
        *,
        times: int = 1,
        skip: int = 0,
        retry_after: str | None = None,
    ) -> Fault:
        fault = Fault(endpoint, kind, times=times, skip=skip, retry_after=retry_after)
        with self._lock:
            self.faults.append(fault)
        return fault

    def expire_all(self) -> None:
        """Forget every WebEnv, as the history server does after a while."""
        with self._lock:
            self.expired.update(self.histories)

    def calls(self, endpoint: str) -> list[Request]:
        return [r for r in self.log if r.endpoint == endpoint]

    # -- semantics -------------------------------------------------------------------

    def take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.endpoint not in (endpoint, "*") or f.fired >= f.times:
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.fired += 1
                return f
        return None

    def search(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        def one(name: str, default: str | None = None) -> str | None:
            return params.get(name, [default])[0]

        hits = list(self.articles)
        mindate, maxdate = one("mindate"), one("maxdate")
        lo = _parse_date(mindate) if mindate else None
        hi = _parse_max_date(maxdate) if maxdate else None
        if lo or hi:
            hits = [
                a for a in hits if (lo is None or a.pdat >= lo) and (hi is None or a.pdat <= hi)
            ]
        ids = [a.pmid for a in sorted(hits, key=lambda a: int(a.pmid), reverse=True)]
        retstart = int(one("retstart", "0") or 0)
        retmax = int(one("retmax", "20") or 0)
        count = len(ids)
        if self.synthetic_count is not None and retmax == 0:
            count = self.synthetic_count(lo or date(1800, 1, 1), hi or date(2100, 12, 31))
        if retstart > self.cap - 1:
            msg = (
                f"Search Backend failed: Exception:\n'retstart' cannot be larger than "
                f"{self.cap - 1}. For PubMed, ESearch can only retrieve the first "
                f"{self.cap:,} records matching the query."
            )
            return 400, XML_DECL + ESEARCH_DOCTYPE + (
                f"<eSearchResult><ERROR>{escape(msg)}</ERROR></eSearchResult>\n".encode()
            )
        served = ids[retstart : min(retstart + retmax, self.cap)]
        history = ""
        if one("usehistory") == "y":
            webenv = "MCID_" + secrets.token_hex(12)
            with self._lock:
                self.histories[webenv] = ids
            history = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        body = (
            f"<eSearchResult><Count>{count}</Count><RetMax>{len(served)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>\n"
            + "".join(f"<Id>{i}</Id>\n" for i in served)
            + "</IdList><TranslationSet/>"
            f"<QueryTranslation>{escape(one('term', '') or '')}</QueryTranslation>"
            "</eSearchResult>\n"
        )
        return 200, XML_DECL + ESEARCH_DOCTYPE + body.encode()

    def fetch(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        if "id" in params:
            ids = [i for v in params["id"] for i in v.split(",") if i.strip()]
        else:
            webenv = params.get("WebEnv", [""])[0]
            with self._lock:
                known = webenv in self.histories and webenv not in self.expired
                history = self.histories.get(webenv, [])
            if not known or params.get("query_key", [""])[0] != "1":
                return 200, XML_DECL + EFETCH_ERROR_DOCTYPE + (
                    b"<eFetchResult>\n\t<ERROR>Unable to obtain query #1</ERROR>\n</eFetchResult>\n"
                )
            retstart = int(params.get("retstart", ["0"])[0])
            retmax = int(params.get("retmax", ["20"])[0])
            if retstart > self.cap - 1:
                return 400, XML_DECL + EFETCH_ERROR_DOCTYPE + (
                    f"<eFetchResult><ERROR>'retstart' cannot be larger than {self.cap - 1}"
                    "</ERROR></eFetchResult>\n".encode()
                )
            ids = history[retstart : min(retstart + retmax, self.cap)]
        parts = [XML_DECL, EFETCH_DOCTYPE, b"<PubmedArticleSet>\n"]
        for i in ids:
            a = self.by_pmid.get(i.strip())
            if a is not None and a.pmid not in self.withheld:
                parts += [a.xml, b"\n"]
        parts.append(b"</PubmedArticleSet>\n")
        return 200, b"".join(parts)

    def link(self, params: dict[str, list[str]]) -> tuple[int, bytes]:
        dbfrom = params.get("dbfrom", ["pubmed"])[0]
        linkname = params.get("linkname", [""])[0]
        table = (self.links or {}).get(linkname, {})
        out = [b"<eLinkResult>\n"]
        for i in params.get("id", []):
            out.append(f"<LinkSet><DbFrom>{dbfrom}</DbFrom><IdList><Id>{i}</Id></IdList>".encode())
            linked = table.get(i, [])
            if linked:
                out.append(
                    f"<LinkSetDb><DbTo>pubmed</DbTo><LinkName>{linkname}</LinkName>".encode()
                    + b"".join(f"<Link><Id>{x}</Id></Link>".encode() for x in linked)
                    + b"</LinkSetDb>"
                )
            out.append(b"</LinkSet>\n")
        out.append(b"</eLinkResult>\n")
        return 200, XML_DECL + ELINK_DOCTYPE + b"".join(out)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeEutils
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length))

    def _serve(self, body: bytes) -> None:
        fake = self.fake
        url = urllib.parse.urlsplit(self.path)
        endpoint = url.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items():
            params.setdefault(k, []).extend(v)
        fault = fake.take_fault(endpoint)
        with fake._lock:
            fake.log.append(Request(endpoint, params, fault.kind if fault else None))
        if fault is not None:
            if fault.kind == "reset":
                self.close_connection = True
                return
            if fault.kind == "400-echo":
                # What NCBI does for a bad key: a JSON error body echoing the request's key.
                key = (params.get("api_key") or [""])[0]
                body = json.dumps({"error": "API key invalid", "api-key": key,
                                   "type": "invalid", "status": "unknown"}).encode()
                self._send(400, body, {}, ctype="application/json")
                return
            if fault.kind in ("429", "500", "502", "503"):
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(
                    int(fault.kind), b"<html><body>error</body></html>", headers, ctype="text/html"
                )
                return
            if fault.kind == "timeout":
                time.sleep(fake.timeout_delay)
            if fault.kind == "expire":
                fake.expire_all()
        handlers = {"esearch": fake.search, "efetch": fake.fetch, "elink": fake.link}
        if endpoint not in handlers:
            self._send(404, b"not found", {}, ctype="text/plain")
            return
        if endpoint == "efetch" and fake.efetch_delay:
            time.sleep(fake.efetch_delay)
        status, payload = handlers[endpoint](params)
        if fault is not None and fault.kind == "truncate":
            payload = payload[: max(1, len(payload) // 2)]
        self._send(status, payload, {}, cut=fault is not None and fault.kind == "cut")

    def _send(
        self,
        status: int,
        payload: bytes,
        headers: dict[str, str],
        *,
        ctype: str = "text/xml; charset=UTF-8",
        cut: bool = False,
    ) -> None:
        encoding = None
        if self.fake.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            payload = gzip.compress(payload, compresslevel=1)
            encoding = "gzip"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if encoding:
                self.send_header("Content-Encoding", encoding)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2] if cut else payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to answer
        if cut:
            self.close_connection = True


@pytest.fixture
def fake_eutils() -> Iterator[FakeEutils]:
    """A started fake E-utilities server over the shared ``pubmed_small`` records."""
    with FakeEutils(load_corpus()) as fake:
        yield fake
