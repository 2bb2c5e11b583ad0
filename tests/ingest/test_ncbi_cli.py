"""``pubgraph ingest pubmed`` as a user runs it: a real process against the fake server,
killed with SIGKILL mid-run and resumed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pubgraph.ingest.eutils import EutilsClient, RetryPolicy
from pubgraph.ingest.ncbi import MANIFEST, SyncOptions, sync_pubmed
from tests.ingest.fake_eutils import FakeEutils, load_corpus

REPO = Path(__file__).resolve().parents[2]
QUERY = ["--query", "fake query", "--from", "1900-01-01", "--to", "2030-12-31"]


def cli_env(fake: FakeEutils, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "PUBGRAPH_"))}
    empty_config = tmp / "empty.toml"  # an explicit config file must exist
    empty_config.write_text("")
    env.update(
        PUBGRAPH_EUTILS_URL=fake.url,
        PUBGRAPH_NCBI_API_KEY="test-key",  # 10 requests/s instead of 3
        PUBGRAPH_DATA_DIR=str(tmp / "data"),
        PUBGRAPH_CONFIG=str(empty_config),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra)
    return env


def pubgraph(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pubgraph", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def rows(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for r in pq.read_table(path).to_pylist():
        assert r["pmid"] not in out, f"PMID {r['pmid']} twice"
        r.pop("source_file")
        out[r["pmid"]] = r
    return out


def test_cli_fetches_and_summarises_and_warns_without_email(tmp_path: Path) -> None:
    with FakeEutils(load_corpus()) as fake:
        out = tmp_path / "records.parquet"
        done = pubgraph(
            "ingest",
            "pubmed",
            *QUERY,
            "--max",
            "120",
            "--batch-size",
            "50",
            "--with-citations",
            "--out",
            str(out),
            env=cli_env(fake, tmp_path),
        )
    assert done.returncode == 0, done.stderr
    assert "PUBGRAPH_NCBI_EMAIL" in done.stderr and "warning" in done.stderr
    assert len(rows(out)) == 120
    for label in ("articles", "with abstract", "with MeSH", "references", "deletions"):
        assert label in done.stdout
    assert "120" in done.stdout
    # The default cache lives under the data directory and holds the watermark.
    manifests = list((tmp_path / "data" / "ncbi").glob(f"*/{MANIFEST}"))
    assert len(manifests) == 1 and json.loads(manifests[0].read_text())["finished"]
    sent = [r.params for r in fake.log]
    assert all(p["tool"] == ["pubgraph"] and p["api_key"] == ["test-key"] for p in sent)
    assert all("email" not in p for p in sent)


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    with FakeEutils(load_corpus()) as fake:
        env = cli_env(fake, tmp_path, PUBGRAPH_NCBI_EMAIL="dev@example.org")
        done = pubgraph(
            "ingest",
            "pubmed",
            "--query",
            "q",
            "--from",
            "2020-01-01",
            "--to",
            "2019-01-01",
            "--out",
            str(tmp_path / "x.parquet"),
            env=env,
        )
        assert fake.log == []  # refused before any request
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert [ln for ln in done.stderr.splitlines() if ln.strip()] == [
        "error: --from 2020-01-01 is after --to 2019-01-01"
    ]
    assert not (tmp_path / "x.parquet").exists()


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    corpus = load_corpus()
    with FakeEutils(corpus, efetch_delay=0.15) as fake:
        out, cache = tmp_path / "killed.parquet", tmp_path / "cache"
        args = [
            "ingest",
            "pubmed",
            *QUERY,
            "--batch-size",
            "20",
            "--out",
            str(out),
            "--cache",
            str(cache),
        ]
        env = cli_env(fake, tmp_path, PUBGRAPH_NCBI_EMAIL="dev@example.org")
        proc = subprocess.Popen(
            [sys.executable, "-m", "pubgraph", *args],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        done_before = 0
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    done_before = len(json.loads((cache / MANIFEST).read_text())["batches"])
                except (OSError, ValueError):
                    done_before = 0
                if done_before >= 4:
                    break
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
        assert 4 <= done_before < 16
        assert not out.exists()
        done_before = len(json.loads((cache / MANIFEST).read_text())["batches"])

        fake.efetch_delay = 0.0
        fake.log.clear()
        resumed = pubgraph(*args, "--resume", env=env)
        assert resumed.returncode == 0, resumed.stderr
        fetched_on_resume = len(fake.calls("efetch"))

        fake.log.clear()
        client = EutilsClient(
            fake.url,
            rate=1000.0,
            sleep=lambda s: None,
            retry=RetryPolicy(max_tries=3),
            rng=random.Random(1),
        )
        full = sync_pubmed(
            client,
            SyncOptions(
                query="fake query",
                mindate=date(1900, 1, 1),
                maxdate=date(2030, 12, 31),
                out=tmp_path / "full.parquet",
                cache_dir=tmp_path / "full-cache",
                batch_size=20,
            ),
        )
    assert rows(out) == rows(tmp_path / "full.parquet")
    assert set(rows(out)) == {a.pmid for a in corpus}
    assert fetched_on_resume == full.batches - done_before  # nothing fetched twice
