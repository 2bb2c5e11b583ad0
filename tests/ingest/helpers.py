"""Shared paths and independent (regex / byte) counters for the ingest tests.

The counters deliberately avoid lxml and the parser's code paths: they read the raw
bytes, so the parser's figures are checked against something it cannot share bugs with.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

_PMID = re.compile(rb"<PMID[^>]*>\s*(\d+)\s*</PMID>")
_ABSTRACT_TEXT = re.compile(rb"<AbstractText(?:\s[^>]*)?>\s*(?:[^<\s]|<(?!/AbstractText>))")
_TITLE_TEXT = re.compile(rb"<ArticleTitle(?:\s[^>]*)?>\s*(?:[^<\s]|<(?!/ArticleTitle>))")
_REF_PMID = re.compile(rb'<ArticleId IdType="pubmed">\s*\d+\s*</ArticleId>')


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@dataclass(frozen=True)
class RawCounts:
    articles: int
    unique_pmids: int
    with_mesh: int
    with_title: int
    with_abstract: int
    abstract_elements: int
    reference_list_elements: int
    articles_with_references: int
    cited_pmids: int
    cited_pmids_first_list_direct: int
    deletions: int


def raw_pubmed_counts(path: Path) -> RawCounts:
    """Count a PubmedArticleSet with byte splits and regexes only."""
    data = read_bytes(path)
    body, _, tail = data.partition(b"<DeleteCitation>")
    chunks = body.split(b"<PubmedArticle>")[1:]
    pmids: set[bytes] = set()
    with_mesh = with_title = with_abstract = with_refs = cited = cited_first = 0
    for chunk in chunks:
        m = _PMID.search(chunk)
        assert m is not None
        pmids.add(m.group(1))
        with_mesh += b"<MeshHeadingList>" in chunk
        with_title += _TITLE_TEXT.search(chunk) is not None
        # Only the main <Abstract>, not <OtherAbstract> (translations).
        a_start = chunk.find(b"<Abstract>")
        if a_start >= 0:
            abstract = chunk[a_start : chunk.find(b"</Abstract>", a_start)]
            with_abstract += _ABSTRACT_TEXT.search(abstract) is not None
        start = chunk.find(b"<ReferenceList>")
        if start >= 0:
            refs = chunk[start : chunk.rfind(b"</ReferenceList>")]
            with_refs += b"<Reference>" in refs
            cited += len(_REF_PMID.findall(refs))
            # What a parser reading only the first list's direct <Reference> children sees.
            first = refs[: refs.find(b"</ReferenceList>")] if b"</ReferenceList>" in refs else refs
            nested = first.find(b"<ReferenceList>", len(b"<ReferenceList>"))
            if nested >= 0:
                first = first[:nested]
            cited_first += len(_REF_PMID.findall(first))
    deletions = 0
    if tail:
        block = tail.partition(b"</DeleteCitation>")[0]
        deletions = len(_PMID.findall(block))
    return RawCounts(
        articles=len(chunks),
        unique_pmids=len(pmids),
        with_mesh=with_mesh,
        with_title=with_title,
        with_abstract=with_abstract,
        abstract_elements=body.count(b"<Abstract>"),
        reference_list_elements=body.count(b"<ReferenceList>"),
        articles_with_references=with_refs,
        cited_pmids=cited,
        cited_pmids_first_list_direct=cited_first,
        deletions=deletions,
    )
