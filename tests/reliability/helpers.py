"""Shared helpers of the reliability suite: real record bytes, CLI runs, fingerprints."""

from __future__ import annotations

import gzip
import itertools
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECORD_START = re.compile(rb"<PubmedArticle>")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
        check: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m pubgraph.cli ARGS`` in a subprocess (this tree's code via PYTHONPATH)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "pubgraph.cli", *args], cwd=REPO,
                          env=full_env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


def popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The same as :func:`cli`, started in the background (stdout/stderr captured)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "pubgraph.cli", *args], cwd=REPO,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def error_lines(stderr: str) -> list[str]:
    """The non-empty lines of stderr that are not progress output."""
    return [line for line in stderr.splitlines() if line.strip() and "━" not in line]


@cache
def pubmed14_head(n: int) -> bytes:
    """The first ``n`` PubmedArticle records of pubmed20n0014 as a complete PubMed XML file
    (read-only source: /work/shared/data or $PUBGRAPH_SHARED_DATA)."""
    from pubgraph.core.settings import shared_data_dir

    src = shared_data_dir() / "pubmed" / "pubmed20n0014.xml.gz"
    with gzip.open(src, "rb") as fh:
        head = fh.read(64 * 1024 * 1024 if n > 2000 else 12 * 1024 * 1024)
    starts = [m.start() for m in itertools.islice(RECORD_START.finditer(head), n + 1)]
    assert len(starts) == n + 1, "not enough records in the slice read"
    return head[: starts[n]] + b"</PubmedArticleSet>\n"


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` byte spans of each ``<PubmedArticle>...</PubmedArticle>``."""
    spans = []
    for m in RECORD_START.finditer(data):
        end = data.index(b"</PubmedArticle>", m.start()) + len(b"</PubmedArticle>")
        spans.append((m.start(), end))
    return spans


def pmid_of(record: bytes) -> str:
    m = re.search(rb"<PMID[^>]*>(\d+)</PMID>", record)
    assert m is not None
    return m.group(1).decode()
