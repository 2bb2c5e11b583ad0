"""Secrets stay out of output and logs (issue #14, defect 5): NCBI echoes the API key in
its error body; pubgraph must not print it, log it or write it to its files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pubgraph.core.errors import NcbiError
from pubgraph.core.redact import install_log_redaction, redact, register_secret
from pubgraph.ingest.eutils import EutilsClient, RetryPolicy
from tests.ingest.fake_eutils import FakeEutils, load_corpus
from tests.ingest.test_ncbi_cli import QUERY, cli_env, pubgraph

pytestmark = pytest.mark.reliability

KEY = "k3y-0f-the-t3st-5ecret-9a7b"


def _all_text(root: Path) -> str:
    out = []
    for p in root.rglob("*"):
        if p.is_file():
            out.append(p.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_failing_ncbi_path_never_shows_the_key(tmp_path: Path) -> None:
    with FakeEutils(load_corpus()) as fake:
        fake.inject("esearch", "400-echo", times=50)
        env = cli_env(fake, tmp_path, PUBGRAPH_NCBI_API_KEY=KEY)
        run = pubgraph("ingest", "pubmed", *QUERY, "--out", str(tmp_path / "out.parquet"),
                       env=env)
        sent = [r.params.get("api_key", [None])[0] for r in fake.log]
    assert KEY in sent  # the key was really used, and the server really echoed it
    assert run.returncode != 0
    assert "API key invalid" in run.stderr + run.stdout  # the error itself is shown
    assert KEY not in run.stdout and KEY not in run.stderr
    assert KEY not in _all_text(tmp_path / "data") if (tmp_path / "data").exists() else True
    assert "***" in run.stderr + run.stdout


def test_client_error_message_is_redacted_in_process(caplog: pytest.LogCaptureFixture) -> None:
    with FakeEutils(load_corpus()) as fake:
        fake.inject("esearch", "400-echo", times=5)
        client = EutilsClient(base_url=fake.url, api_key=KEY, retry=RetryPolicy(max_tries=1))
        with pytest.raises(NcbiError) as info:
            client.esearch("anything")
    assert "API key invalid" in str(info.value)
    assert KEY not in str(info.value)
    # and a log line carrying the key (a library logging the request) is masked too
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("urllib3.test").warning("POST esearch api_key=%s", KEY)
    assert KEY not in caplog.text and "api_key=***" in caplog.text


def test_redact_patterns() -> None:
    register_secret("s3cret-neo4j-pass")
    cases = {
        '400: {"error":"bad","api-key":"abc123def"}': '400: {"error":"bad","api-key":"***"}',
        "https://x/e?db=pubmed&api_key=zz99&tool=t": "https://x/e?db=pubmed&api_key=***&tool=t",
        "password=hunter22": "password=***",
        "bolt://neo4j:pw1234@db:7687": "bolt://neo4j:***@db:7687",
        "Authorization: Bearer abcdefghijk": "Authorization: Bearer ***",
        "auth failed for s3cret-neo4j-pass": "auth failed for ***",
        "the author of 12 tokens": "the author of 12 tokens",
    }
    for raw, want in cases.items():
        assert redact(raw) == want, raw
