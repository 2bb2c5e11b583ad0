"""The generic streaming XML reader that the PubMed and PMC parsers share.

``stream_records`` opens a path (plain or gzip, told apart by the magic bytes) or a binary
stream, walks it with ``lxml.etree.iterparse`` restricted to the record tags, hands each
record element to a format's handler, then clears it and drops its earlier siblings, so
memory stays flat however large the file is. Errors name the file, the record and the line.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

from lxml import etree

from pubgraph.core.errors import InputError
from pubgraph.ingest.records import Record

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class SkipInfo:
    """A record (or the rest of a file) left out in ``skip_bad`` mode, and why.

    ``record`` is the PMID when known, else a position such as ``"#12 after PMID 123"``;
    ``line`` is the line of the bad record's start tag or of the XML syntax error.
    """

    file: str
    record: str | None
    reason: str
    line: int | None = None
    #: The file could not be read to its end (truncated, corrupt gzip): more may be lost.
    rest_of_file: bool = False
    #: False for a report that lost no record (damage outside the records).
    lost_record: bool = True


class RecordError(ValueError):
    """One record is unusable (e.g. no PMID). ``field`` names the offending element."""

    def __init__(self, message: str, *, field: str | None = None, pmid: str | None = None):
        super().__init__(message)
        self.field = field
        self.pmid = pmid


def text_of(el: etree._Element | None) -> str | None:
    """All text inside ``el`` (inline markup flattened), whitespace collapsed; None if empty."""
    if el is None:
        return None
    t = "".join(el.itertext()) if len(el) else el.text
    if not t:
        return None
    # Collapse whitespace; skip the work for clean ASCII text (XML allows no other ASCII
    # whitespace than space, tab, CR and LF; non-ASCII text may hold NBSP & co).
    if (
        not t.isascii()
        or "  " in t
        or "\n" in t
        or "\t" in t
        or "\r" in t
        or t[0] == " "
        or t[-1] == " "
    ):
        t = " ".join(t.split())
    return t or None




class _CountingReader:
    """File wrapper counting the bytes handed to the XML parser (for error offsets)."""

    __slots__ = ("_raw", "consumed")

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.consumed += len(data)
        return data


def source_name(source: str | os.PathLike[str] | BinaryIO) -> str:
    """A printable name for a path or a file object."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", None) or "<stream>")


def open_xml(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a file for reading as XML bytes, gunzipping it if it starts with the gzip magic."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as e:
        raise InputError(f"cannot open: {e.strerror or e}", file=str(path)) from e
    magic = f.read(2)
    f.seek(0)
    if magic == _GZIP_MAGIC:
        # Closing a GzipFile does not close ``f``: _close() closes both.
        return cast(IO[bytes], gzip.GzipFile(fileobj=f, mode="rb"))
    return f


def _close(stream: IO[bytes]) -> None:
    inner = getattr(stream, "fileobj", None)
    stream.close()
    if inner is not None:
        inner.close()


_READ_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, OSError)

Reopen = Callable[[], IO[bytes]]


@dataclass(slots=True)
class _Progress:
    """What the fast path got through, so that the resync path neither repeats nor drops."""

    last_pmid: str | None = None
    n_records: int = 0
    #: Records yielded, by (type, PMID): the resync path yields each of them once less.
    yielded: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Line numbers of the records already reported as bad (RecordError).
    reported: Counter[int | None] = field(default_factory=Counter)

    def where(self, pmid: str | None = None) -> str:
        if pmid:
            return pmid
        after = f" after PMID {self.last_pmid}" if self.last_pmid else " (first record)"
        return f"#{self.n_records + 1}{after}"


class _Broken(Exception):
    """skip_bad mode: the fast path cannot go on (reason, line); the resync path takes over."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def stream_records(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    tags: tuple[str, ...],
    roots: frozenset[str],
    handler: Callable[[etree._Element], tuple[Record, ...]],
    skip_bad: bool = False,
    on_skip: Callable[[SkipInfo], None] | None = None,
    reopen: Reopen | None = None,
) -> Iterator[Record]:
    """Shared streaming loop: iterparse ``tags`` under one of ``roots``, map each element
    to records with ``handler`` (which raises RecordError for a bad record), then free it.
    Used by the PubMed and the PMC parsers.

    With ``skip_bad``, an error the XML parser cannot get past (a bad byte, a broken tag,
    a corrupt gzip block) does not end the file: the file is read again from the start
    (``reopen``, or the path) and split on the record start tags, each record parsed on its
    own; the records already yielded are not repeated, the damaged one is reported to
    ``on_skip``, and the intact ones after it are yielded. What cannot be read at all (the
    rest of a truncated or corrupt gzip, a file cut off in a record) is reported with
    ``SkipInfo.rest_of_file`` set: the file was not read to its end.
    """
    name = source_name(source)
    progress = _Progress()
    if isinstance(source, (str, os.PathLike)):
        path = source
        stream = open_xml(source)
        owned = True
        if reopen is None:
            reopen = lambda: open_xml(path)  # noqa: E731
    else:
        stream = source
        owned = False
    try:
        try:
            if not owned:
                peek = getattr(source, "peek", None)
                try:
                    head = bytes(peek(2))[:2] if peek is not None else b""
                except _READ_ERRORS as e:
                    raise _read_error(e, name, progress, skip_bad, 0) from None
                if head == _GZIP_MAGIC:
                    gz = gzip.GzipFile(fileobj=cast(IO[bytes], source), mode="rb")
                    stream = cast(IO[bytes], gz)
            yield from _iter_stream(stream, name, tags, roots, handler, skip_bad, on_skip,
                                    progress)
        except _Broken as broken:
            if reopen is None:
                _report(on_skip, SkipInfo(name, progress.where(), broken.reason, broken.line,
                                          rest_of_file=True))
                return
            if owned:
                _close(stream)
                owned = False
            again = reopen()
            try:
                yield from _resync(again, name, tags, roots, handler, on_skip, progress,
                                   broken)
            finally:
                _close(again)
    finally:
        if owned:
            _close(stream)


def _report(on_skip: Callable[[SkipInfo], None] | None, info: SkipInfo) -> None:
    if on_skip is not None:
        on_skip(info)


def _read_error(
    e: BaseException, name: str, progress: _Progress, skip_bad: bool, consumed: int
) -> Exception:
    reason = f"cannot read (truncated or corrupt gzip?): {e or type(e).__name__} " \
        f"(byte ~{consumed})"
    if skip_bad:
        return _Broken(reason, None)
    return InputError(reason, file=name, record=progress.where())


def _iter_stream(
    stream: IO[bytes],
    name: str,
    tags: tuple[str, ...],
    roots: frozenset[str],
    handler: Callable[[etree._Element], tuple[Record, ...]],
    skip_bad: bool,
    on_skip: Callable[[SkipInfo], None] | None,
    progress: _Progress,
) -> Iterator[Record]:
    reader = _CountingReader(stream)
    checked_root = False
    expected = " or ".join(f"<{r}>" for r in sorted(roots))
    where = progress.where

    def fail(reason: str, *, record: str, line: int | None, field: str | None = None,
             rest: bool = False) -> None:
        """Raise in strict mode; report to on_skip in skip_bad mode."""
        if not skip_bad:
            msg = f"{reason} (line {line})" if line and f"line {line}" not in reason else reason
            raise InputError(msg, file=name, record=record, field=field)
        if on_skip is not None:
            on_skip(SkipInfo(file=name, record=record, reason=reason, line=line,
                             rest_of_file=rest))

    context = etree.iterparse(
        reader,
        events=("end",),
        tag=tags,
        huge_tree=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
    )
    try:
        for _, elem in context:
            if not checked_root:
                root_tag = elem.getroottree().getroot().tag
                if root_tag not in roots:
                    fail(
                        f"unknown root element <{root_tag}>, expected {expected}",
                        record=where(),
                        line=1,
                        rest=True,
                    )
                    return
                checked_root = True
            try:
                records = handler(elem)
            except RecordError as e:
                progress.reported[elem.sourceline] += 1
                fail(str(e), record=where(e.pmid), line=elem.sourceline, field=e.field)
                records = ()
            # Free the subtree and the already-processed siblings: flat memory.
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
            for rec in records:
                progress.last_pmid = rec.pmid
                progress.n_records += 1
                if skip_bad:
                    progress.yielded[(type(rec).__name__, rec.pmid)] += 1
                yield rec
    except etree.XMLSyntaxError as e:
        reason = f"malformed XML: {e.msg} (byte ~{reader.consumed})"
        if skip_bad:
            raise _Broken(reason, e.lineno or None) from None
        fail(reason, record=where(), line=e.lineno or None)
        return
    except _READ_ERRORS as e:
        raise _read_error(e, name, progress, skip_bad, reader.consumed) from None
    if not checked_root:
        root = context.root
        root_tag = root.tag if root is not None else None
        if root_tag not in roots:
            fail(
                f"unknown root element <{root_tag}>, expected {expected}",
                record=where(),
                line=1,
                rest=True,
            )


# --- the resync path (skip_bad, after the fast path failed) ------------------------------

_READ_SIZE = 1 << 20
_XML_DECL = re.compile(rb"^\s*(<\?xml[^>]*\?>)")


def _start_tag_re(tags: Iterable[str]) -> re.Pattern[bytes]:
    names = b"|".join(re.escape(t.encode()) for t in sorted(tags, key=len, reverse=True))
    return re.compile(rb"<(" + names + rb")(?=[\s>/])")


def _split_records(
    stream: IO[bytes], start: re.Pattern[bytes]
) -> Iterator[tuple[bytes, bytes, int, BaseException | None, bool]]:
    """``(kind, bytes, line, read_error, last)``: the head before the first record start
    tag (kind ``b""``), then each span from one record start tag to the next (kind = the
    tag), then the last span to the end. ``read_error`` is set on the last item when the
    stream broke off."""
    buf = b""
    eof = False
    error: BaseException | None = None
    line = 1

    def fill() -> None:
        nonlocal buf, eof, error
        try:
            data = stream.read(_READ_SIZE)
        except _READ_ERRORS as e:
            error, eof = e, True
            return
        if not data:
            eof = True
        buf += data

    scan = 0
    m = start.search(buf)
    while m is None and not eof:
        scan = max(0, len(buf) - 64)
        fill()
        m = start.search(buf, scan)
    if m is None:
        yield b"", buf, line, error, True
        return
    yield b"", buf[: m.start()], line, None, False
    line += buf.count(b"\n", 0, m.start())
    buf = buf[m.start():]
    while True:
        kind = start.match(buf)
        assert kind is not None
        nxt = start.search(buf, kind.end())
        scan = kind.end()
        while nxt is None and not eof:
            scan = max(kind.end(), len(buf) - 64)
            fill()
            nxt = start.search(buf, scan)
        if nxt is None:
            yield kind.group(1), buf, line, error, True
            return
        yield kind.group(1), buf[: nxt.start()], line, None, False
        line += buf.count(b"\n", 0, nxt.start())
        buf = buf[nxt.start():]


def _resync(
    stream: IO[bytes],
    name: str,
    tags: tuple[str, ...],
    roots: frozenset[str],
    handler: Callable[[etree._Element], tuple[Record, ...]],
    on_skip: Callable[[SkipInfo], None] | None,
    progress: _Progress,
    broken: _Broken,
) -> Iterator[Record]:
    """Parse the file record by record (see :func:`stream_records`)."""
    parser = etree.XMLParser(
        huge_tree=True, resolve_entities=False, no_network=True, remove_comments=True
    )
    root_re = re.compile(
        rb"<(" + b"|".join(re.escape(r.encode()) for r in sorted(roots)) + rb")(?=[\s>/])[^>]*>"
    )
    wrap_open = b""
    wrap_close = b""
    root_name: bytes | None = None
    reported_broken = False

    def skip(reason: str, line: int | None, *, record: str | None = None,
             rest: bool = False, lost: bool = True) -> None:
        _report(on_skip, SkipInfo(name, record or progress.where(), reason, line,
                                  rest_of_file=rest, lost_record=lost))

    for kind, data, line, error, last in _split_records(stream, _start_tag_re(tags)):
        if not kind:
            # The head: XML declaration and the root element's start tag (its namespace
            # declarations are needed to parse a record on its own).
            decl = _XML_DECL.match(data)
            root = root_re.search(data)
            if root is not None:
                root_name = root.group(1)
                wrap_open = (decl.group(1) if decl else b"") + root.group(0)
                wrap_close = b"</" + root_name + b">"
            elif decl is not None:
                wrap_open = decl.group(1)
            if error is not None:
                skip(f"cannot read (truncated or corrupt gzip?): {error}", None, rest=True)
                return
            # After the root's start tag only whitespace, comments and PIs may precede the
            # first record: anything else is a record whose start tag was damaged.
            after = data[root.end():] if root is not None else b""
            after = re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", after, flags=re.S).strip()
            if after:
                reported_broken = True
                skip(f"unreadable bytes before the first record ({len(after):,} bytes: a "
                     f"damaged record?) ({broken.reason})", line)
            continue
        tag = kind.decode()
        end = re.search(rb"</" + re.escape(kind) + rb"\s*>", data)
        if end is None:
            reported_broken = True
            if error is not None:
                skip(f"cannot read the rest of the file (truncated or corrupt gzip?): {error}",
                     line, rest=True)
            elif root_name is not None and wrap_close not in data:
                skip(f"file ends inside <{tag}> (truncated)", line, rest=True)
            else:
                skip(f"malformed XML: <{tag}> is not closed ({broken.reason})", line)
            if error is not None or (root_name is not None and wrap_close not in data):
                return
            continue
        body, rest = data[: end.end()], data[end.end():]
        record_bytes = (wrap_open + body + wrap_close) if root_name is not None else (
            wrap_open + body)
        try:
            tree = etree.fromstring(record_bytes, parser)
        except etree.XMLSyntaxError as e:
            reported_broken = True
            skip(f"malformed XML: {e.msg}", line + max((e.lineno or 1) - 1, 0))
            elem = None
        else:
            elem = tree[0] if root_name is not None and len(tree) else tree
            if elem.tag != tag:
                reported_broken = True
                skip(f"malformed XML: <{tag}> could not be read on its own", line)
                elem = None
        if elem is not None:
            try:
                records = handler(elem)
            except RecordError as e:
                records = ()
                if progress.reported[line] > 0:
                    progress.reported[line] -= 1
                else:
                    skip(str(e), line, record=progress.where(e.pmid))
            for rec in records:
                key = (type(rec).__name__, rec.pmid)
                if progress.yielded[key] > 0:
                    progress.yielded[key] -= 1
                    continue
                progress.last_pmid = rec.pmid
                progress.n_records += 1
                yield rec
        # Between a record's end tag and the next start tag only whitespace (and, at the
        # end, the root's end tag) may stand: anything else is a record whose start tag
        # was damaged, lost here and reported.
        leftover = rest.replace(wrap_close, b"", 1) if root_name is not None else rest
        leftover = re.sub(rb"<!--.*?-->", b"", leftover, flags=re.S).strip()
        if leftover:
            reported_broken = True
            skip(f"unreadable bytes between records ({len(leftover):,} bytes: a damaged "
                 f"record?) ({broken.reason})", line)
        if error is not None:
            skip(f"cannot read the rest of the file (truncated or corrupt gzip?): {error}",
                 None, rest=True)
            return
        if last and root_name is not None and wrap_close not in rest:
            skip(f"file ends after this record without </{root_name.decode()}> (truncated?)",
                 line, rest=True, lost=False)
            return
    if not reported_broken:
        # The record-by-record parse found nothing wrong with any record: the damage is
        # outside them (e.g. in the root element), and every record was kept.
        skip(f"damage outside the records ({broken.reason}); every record was read",
             broken.line, record="file", lost=False)
