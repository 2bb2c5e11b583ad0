"""The generic streaming XML reader that the PubMed and PMC parsers share.

``stream_records`` opens a path (plain or gzip, told apart by the magic bytes) or a binary
stream, walks it with ``lxml.etree.iterparse`` restricted to the record tags, hands each
record element to a format's handler, then clears it and drops its earlier siblings, so
memory stays flat however large the file is. Errors name the file, the record and the line.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def stream_records(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    tags: tuple[str, ...],
    roots: frozenset[str],
    handler: Callable[[etree._Element], tuple[Record, ...]],
    skip_bad: bool = False,
    on_skip: Callable[[SkipInfo], None] | None = None,
) -> Iterator[Record]:
    """Shared streaming loop: iterparse ``tags`` under one of ``roots``, map each element
    to records with ``handler`` (which raises RecordError for a bad record), then free it.
    Used by the PubMed and the PMC parsers."""
    name = source_name(source)
    if isinstance(source, (str, os.PathLike)):
        stream = open_xml(source)
        owned = True
    else:
        stream = source
        owned = False
        peek = getattr(source, "peek", None)
        if peek is not None and bytes(peek(2))[:2] == _GZIP_MAGIC:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=source, mode="rb"))
    try:
        yield from _iter_stream(stream, name, tags, roots, handler, skip_bad, on_skip)
    finally:
        if owned:
            _close(stream)


def _iter_stream(
    stream: IO[bytes],
    name: str,
    tags: tuple[str, ...],
    roots: frozenset[str],
    handler: Callable[[etree._Element], tuple[Record, ...]],
    skip_bad: bool,
    on_skip: Callable[[SkipInfo], None] | None,
) -> Iterator[Record]:
    reader = _CountingReader(stream)
    last_pmid: str | None = None
    n_records = 0
    checked_root = False
    expected = " or ".join(f"<{r}>" for r in sorted(roots))

    def where(pmid: str | None = None) -> str:
        if pmid:
            return pmid
        after = f" after PMID {last_pmid}" if last_pmid else " (first record)"
        return f"#{n_records + 1}{after}"

    def fail(reason: str, *, record: str, line: int | None, field: str | None = None) -> None:
        """Raise in strict mode; report to on_skip in skip_bad mode."""
        if not skip_bad:
            msg = f"{reason} (line {line})" if line and f"line {line}" not in reason else reason
            raise InputError(msg, file=name, record=record, field=field)
        if on_skip is not None:
            on_skip(SkipInfo(file=name, record=record, reason=reason, line=line))

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
                    )
                    return
                checked_root = True
            try:
                records = handler(elem)
            except RecordError as e:
                fail(str(e), record=where(e.pmid), line=elem.sourceline, field=e.field)
                records = ()
            # Free the subtree and the already-processed siblings: flat memory.
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
            for rec in records:
                last_pmid = rec.pmid
                n_records += 1
                yield rec
    except etree.XMLSyntaxError as e:
        fail(
            f"malformed XML: {e.msg} (byte ~{reader.consumed})",
            record=where(),
            line=e.lineno or None,
        )
        return
    except _READ_ERRORS as e:
        fail(
            f"cannot read (truncated or corrupt gzip?): {e} (byte ~{reader.consumed})",
            record=where(),
            line=None,
        )
        return
    if not checked_root:
        root = context.root
        root_tag = root.tag if root is not None else None
        if root_tag not in roots:
            fail(
                f"unknown root element <{root_tag}>, expected {expected}",
                record=where(),
                line=1,
            )
