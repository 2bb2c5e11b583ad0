"""A small, careful client for NCBI E-utilities (esearch, efetch, elink).

Why not ``Bio.Entrez`` for the transport: in Biopython 1.8x every function hard-codes its
URL (``cgi = "https://eutils.ncbi.nlm.nih.gov/..."``), so it cannot be pointed at a local
test server; ``urlopen`` is called without a timeout; retries sleep a fixed
``sleep_between_tries`` through ``time.sleep`` (not injectable, no exponential backoff, no
jitter, ``Retry-After`` ignored); a truncated or in-band error body is handed back as if
it were good; and email/tool/api_key/rate limiter are module globals. This module is the
transport instead: ``urllib`` with a timeout, a min-interval rate limiter (3 requests/s,
10 with an API key), exponential backoff with jitter on 429/5xx/timeouts/resets/truncated
bodies, and validation of every body before it counts as an answer.

``Bio.Entrez`` is still used where it fits: ``Bio.Entrez.read`` parses the esearch and
elink XML (validated against the DTDs that Biopython ships), so the NCBI formats are read
by the well-kept parser rather than by hand. PubMed efetch XML is only checked here
(well-formed, a complete ``PubmedArticleSet``); ``ingest.pubmed`` parses it.

The real network and a local fake server go through the same code; only ``base_url``
differs (``Settings.eutils_url``).
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import io
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from lxml import etree

from pubgraph.core.errors import NcbiError
from pubgraph.core.redact import redact, register_secret

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ESEARCH_CAP",
    "LINK_CITEDIN",
    "LINK_PMC_REFS",
    "LINK_REFS",
    "EutilsClient",
    "HistoryExpired",
    "RateLimiter",
    "RetryPolicy",
    "SearchResult",
    "check_pubmed_xml",
    "format_date",
]

#: PubMed's esearch (and history) serves at most the first 9,999 records of a result set:
#: ``retstart`` cannot be larger than 9998.
ESEARCH_CAP = 9999
DEFAULT_BATCH_SIZE = 200
#: Documented ELink link names: what a PubMed article cites / which PubMed articles cite
#: it (both from PMC and publisher reference lists), and the PubMed records a PMC
#: article cites (``dbfrom=pmc``, ids are the numeric part of the PMCID).
LINK_REFS = "pubmed_pubmed_refs"
LINK_CITEDIN = "pubmed_pubmed_citedin"
LINK_PMC_REFS = "pmc_refs_pubmed"

_EXPIRED_MARKERS = ("unable to obtain query", "cannot retrieve query", "invalid webenv")

T = TypeVar("T")


class HistoryExpired(NcbiError):
    """The WebEnv / query_key is no longer known to the history server."""


class _Retryable(Exception):
    """A transient failure: the request may succeed if repeated."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One esearch answer: the total count, the ids served, and the history handle."""

    count: int
    ids: tuple[str, ...]
    retstart: int = 0
    webenv: str | None = None
    query_key: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry. ``delay(n)`` is the sleep after failed try ``n``."""

    max_tries: int = 6
    base: float = 1.0
    cap: float = 60.0
    #: Upper bound for a server's ``Retry-After`` (a broken header must not stall a run).
    max_retry_after: float = 300.0

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Exponential backoff with "equal jitter", capped; never shorter than Retry-After."""
        ceiling = min(self.cap, self.base * (2.0**attempt))
        backoff = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after))
        return backoff


class RateLimiter:
    """At most ``rate`` requests per second: consecutive requests start >= 1/rate apart.

    A bucket of one token (a minimum interval) rather than a burst bucket: NCBI counts
    requests per second, and a burst of ``rate`` followed by a steady ``rate`` would
    exceed that within one second. The interval has ``headroom`` (10%) because at exactly
    1/rate timing jitter lets a ``rate + 1``-th request into some second (Biopython found
    the same and waits 0.37 s instead of 0.33 s). ``clock``/``sleep`` are injectable.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        headroom: float = 0.1,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = (1.0 + headroom) / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until a request may start; return the seconds waited."""
        with self._lock:
            now = self._clock()
            wait = 0.0 if self._next is None else max(0.0, self._next - now)
            if wait > 0:
                self._sleep(wait)
            self._next = now + wait + self.interval
            return wait


def format_date(d: date) -> str:
    """E-utilities date syntax, ``YYYY/MM/DD``."""
    return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"


def _parse_retry_after(value: str | None, now: Callable[[], datetime]) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _decode_body(raw: bytes, encoding: str | None) -> bytes:
    if encoding and encoding.lower() == "gzip":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _Retryable(f"truncated gzip body ({exc})") from None
    return raw


_ROOT_RE = re.compile(rb"<([A-Za-z][\w.-]*)[\s>/]")


def _root_tag(head: bytes) -> str | None:
    """The document element's name (``<?xml`` and ``<!DOCTYPE`` never match the pattern)."""
    m = _ROOT_RE.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def _error_text(body: bytes) -> str | None:
    m = re.search(rb"<ERROR>(.*?)</ERROR>", body, re.S)
    if m:
        return m.group(1).decode("utf-8", "replace").strip()
    return None


def check_pubmed_xml(body: bytes) -> bytes:
    """Accept ``body`` only if it is a complete, well-formed ``PubmedArticleSet``.

    An ``eFetchResult`` with ``<ERROR>`` is NCBI's in-band error: an expired history
    handle raises ``HistoryExpired``, anything else ``NcbiError``. A body that stops
    early (no closing ``</PubmedArticleSet>``) or does not parse is a transient failure.
    """
    root = _root_tag(body[:4096])
    if root in ("eFetchResult", "eSearchResult", "ERROR"):
        message = _error_text(body) or body[:200].decode("utf-8", "replace")
        if any(m in message.lower() for m in _EXPIRED_MARKERS):
            raise HistoryExpired(f"history expired: {message}")
        raise NcbiError(message)
    if root != "PubmedArticleSet":
        raise _Retryable(f"unexpected document {root or 'empty body'!r}")
    if not body.rstrip().endswith(b"</PubmedArticleSet>"):
        raise _Retryable(f"truncated body ({len(body)} bytes, no closing </PubmedArticleSet>)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        etree.parse(io.BytesIO(body), parser)
    except etree.XMLSyntaxError as exc:
        raise _Retryable(f"unparseable body ({exc})") from None
    return body


def _entrez_read(body: bytes) -> Any:
    # Imported here: Bio.Entrez pulls in a fair amount and is only needed for answers.
    from Bio import Entrez
    from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError, ValidationError

    try:
        return Entrez.read(io.BytesIO(body), ignore_errors=True)  # type: ignore[no-untyped-call]
    except (CorruptedXMLError, NotXMLError, ValidationError) as exc:
        raise _Retryable(f"unparseable body ({exc})") from None


def _check_esearch(body: bytes) -> SearchResult:
    record = _entrez_read(body)
    error = record.get("ERROR")
    if error:
        message = str(error)
        if any(m in message.lower() for m in _EXPIRED_MARKERS):
            raise HistoryExpired(f"history expired: {message}")
        raise NcbiError(message)
    if "Count" not in record:
        raise _Retryable("esearch answer without Count")
    return SearchResult(
        count=int(record["Count"]),
        ids=tuple(str(i) for i in record.get("IdList", [])),
        retstart=int(record.get("RetStart", 0) or 0),
        webenv=str(record["WebEnv"]) if record.get("WebEnv") else None,
        query_key=str(record["QueryKey"]) if record.get("QueryKey") else None,
    )


def _check_elink(body: bytes, linkname: str) -> dict[str, list[str]]:
    record = _entrez_read(body)
    if isinstance(record, Mapping):  # a document-level <ERROR> instead of LinkSets
        raise NcbiError(str(record.get("ERROR") or "elink answer without LinkSet"))
    out: dict[str, list[str]] = {}
    for linkset in record:
        ids = [str(i) for i in linkset.get("IdList", [])]
        if len(ids) != 1:
            # One id= parameter per input id gives one LinkSet per id; several ids in one
            # LinkSet would mean the links can no longer be told apart.
            raise NcbiError(f"elink LinkSet for {len(ids)} ids; expected one per input id")
        links: list[str] = []
        for db in linkset.get("LinkSetDb", []):
            if db.get("LinkName") == linkname:
                links.extend(str(link["Id"]) for link in db.get("Link", []))
        out[ids[0]] = links
    return out


class EutilsClient:
    """E-utilities over HTTP with NCBI's etiquette, retries and body validation.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests run fast and deterministic;
    ``on_retry(label, attempt, reason, delay)`` reports each retry (for progress output).
    After ``retry.max_tries`` failed tries a request raises ``NcbiError`` naming the
    endpoint and what was asked for (``label``: slice, batch, id range).
    """

    def __init__(
        self,
        base_url: str,
        *,
        tool: str = "pubgraph",
        email: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        rate: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_retry: Callable[[str, int, str, float], None] | None = None,
        accept_gzip: bool = True,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.tool = tool
        self.email = email
        self.api_key = api_key
        register_secret(api_key)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.rate = rate if rate is not None else (10.0 if api_key else 3.0)
        self.limiter = RateLimiter(self.rate, clock=clock, sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._on_retry = on_retry
        self._accept_gzip = accept_gzip
        self.requests = 0
        self.retries = 0

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> EutilsClient:
        """A client configured from ``pubgraph.core.settings.Settings`` (URL, tool, email, key)."""
        return cls(
            settings.eutils_url,
            tool=settings.ncbi_tool,
            email=settings.ncbi_email,
            api_key=settings.ncbi_api_key,
            **kwargs,
        )

    # -- endpoints -------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        db: str = "pubmed",
        mindate: date | None = None,
        maxdate: date | None = None,
        datetype: str = "pdat",
        usehistory: bool = True,
        retstart: int = 0,
        retmax: int = 0,
        label: str = "",
    ) -> SearchResult:
        """Search ``db``; with ``usehistory`` the result set stays on the history server."""
        params: list[tuple[str, str]] = [("db", db), ("term", term)]
        if mindate is not None or maxdate is not None:
            if mindate is None or maxdate is None:
                raise ValueError("mindate and maxdate go together")
            params += [
                ("datetype", datetype),
                ("mindate", format_date(mindate)),
                ("maxdate", format_date(maxdate)),
            ]
        if usehistory:
            params.append(("usehistory", "y"))
        params += [("retstart", str(retstart)), ("retmax", str(retmax))]
        what = label or f"term {term!r}"
        return self._request("esearch.fcgi", params, _check_esearch, what)

    def efetch_pubmed(
        self,
        *,
        ids: Sequence[str] | None = None,
        webenv: str | None = None,
        query_key: str | None = None,
        retstart: int = 0,
        retmax: int = DEFAULT_BATCH_SIZE,
        label: str = "",
    ) -> bytes:
        """PubMed records as ``PubmedArticleSet`` XML, by ids or from the history server.

        Asked with ``retmode=xml`` and no ``rettype``: PubMed's full ``PubmedArticle``
        records (abstract, MeSH, reference list). The body is returned only when complete
        and well-formed; an expired history handle raises ``HistoryExpired``.
        """
        params: list[tuple[str, str]] = [("db", "pubmed"), ("retmode", "xml")]
        if ids is not None:
            if not ids:
                raise ValueError("efetch needs at least one id")
            params.append(("id", ",".join(ids)))
            what = label or f"ids {ids[0]}..{ids[-1]} ({len(ids)})"
        elif webenv and query_key:
            params += [
                ("WebEnv", webenv),
                ("query_key", query_key),
                ("retstart", str(retstart)),
                ("retmax", str(retmax)),
            ]
            what = label or f"retstart {retstart}, retmax {retmax}"
        else:
            raise ValueError("efetch needs ids or a WebEnv and query_key")
        return self._request("efetch.fcgi", params, check_pubmed_xml, what)

    def elink(
        self,
        ids: Iterable[str],
        *,
        linkname: str,
        dbfrom: str = "pubmed",
        db: str = "pubmed",
        label: str = "",
    ) -> dict[str, list[str]]:
        """Links of each input id (``cmd=neighbor``, one ``id=`` per id): id -> linked ids.

        Input ids with no link map to ``[]``.
        """
        id_list = [str(i) for i in ids]
        if not id_list:
            return {}
        params: list[tuple[str, str]] = [
            ("dbfrom", dbfrom),
            ("db", db),
            ("cmd", "neighbor"),
            ("linkname", linkname),
        ]
        params += [("id", i) for i in id_list]
        what = label or f"{linkname} for ids {id_list[0]}..{id_list[-1]} ({len(id_list)})"
        links = self._request("elink.fcgi", params, lambda b: _check_elink(b, linkname), what)
        return {i: links.get(i, []) for i in id_list}

    # -- transport -------------------------------------------------------------------

    def _common_params(self) -> list[tuple[str, str]]:
        params = [("tool", self.tool)]
        if self.email:
            params.append(("email", self.email))
        if self.api_key:
            params.append(("api_key", self.api_key))
        return params

    def _open(self, endpoint: str, params: list[tuple[str, str]]) -> bytes:
        """One HTTP exchange; transient failures become ``_Retryable``."""
        data = urllib.parse.urlencode(params + self._common_params()).encode("ascii")
        url = self.base_url + endpoint
        # POST always: NCBI asks for it beyond ~200 ids, and it keeps keys out of URLs.
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("User-Agent", f"{self.tool} (pubgraph E-utilities client)")
        if self._accept_gzip:
            request.add_header("Accept-Encoding", "gzip")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                encoding = response.headers.get("Content-Encoding")
        except urllib.error.HTTPError as exc:
            retry_after = _parse_retry_after(
                exc.headers.get("Retry-After") if exc.headers else None,
                lambda: datetime.now(UTC),
            )
            try:
                body = _decode_body(exc.read(), exc.headers.get("Content-Encoding"))
            except (_Retryable, OSError, http.client.HTTPException):
                body = b""
            if exc.code == 429 or exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code}", retry_after) from None
            detail = _error_text(body) or body[:300].decode("utf-8", "replace").strip()
            # NCBI echoes the request in some error bodies, API key included.
            raise NcbiError(redact(f"HTTP {exc.code}: {detail or exc.reason}")) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        except urllib.error.URLError as exc:
            raise _Retryable(f"connection failed: {exc.reason}") from None
        except OSError as exc:  # e.g. a socket error while reading the body
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        return _decode_body(raw, encoding)

    def _request(
        self,
        endpoint: str,
        params: list[tuple[str, str]],
        validate: Callable[[bytes], T],
        what: str,
    ) -> T:
        name = endpoint.removesuffix(".fcgi")
        last = "no attempt"
        for attempt in range(self.retry.max_tries):
            self.limiter.acquire()
            self.requests += 1
            try:
                return validate(self._open(endpoint, params))
            except _Retryable as exc:
                last = redact(str(exc))
                if attempt + 1 >= self.retry.max_tries:
                    break
                delay = self.retry.delay(attempt, self._rng, exc.retry_after)
                self.retries += 1
                if self._on_retry is not None:
                    self._on_retry(f"{name} ({what})", attempt + 1, last, delay)
                self._sleep(delay)
            except NcbiError as exc:
                raise type(exc)(redact(f"{name} ({what}): {exc}")) from None
        raise NcbiError(redact(
            f"{name} ({what}): failed after {self.retry.max_tries} tries; last error: {last}"
        ))
