"""Fixtures for the dashboard: a real corpus in the test Neo4j, the app served over HTTP,
and a real headless Chromium driven by Selenium.

The corpus is the three small shared PubMed files (air embolism, AMPK, IL-6: 314 real
articles with their citations and MeSH), parsed and loaded by the real pipeline and
embedded with the offline all-MiniLM-L6-v2 (64 tokens, to keep the fixture short), and
analysed by ``pubgraph.analysis`` (leiden, seed 1). A test Neo4j that already holds exactly
this corpus, embedded by this model (and analysed), is reused instead of rebuilt.

Chromium: Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). When
they are missing the browser tests skip on a workstation and FAIL in CI (``CI`` set).
Screenshots go to ``$PUBGRAPH_ARTIFACTS`` (default ``tmp/artifacts/dashboard`` in the
repository, ignored by git).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pubgraph.core.settings import Settings
from pubgraph.graph.db import GraphDB, connect
from pubgraph.graph.server import free_port

REPO = Path(__file__).resolve().parents[2]
SMALL_FILES = ("air_embolism_121.xml", "ampk_phospho_93.xml", "il6_cytokine_100.xml")
CHROME_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--window-size=1400,1000",
)


def artifacts_dir() -> Path:
    out = Path(os.environ.get("PUBGRAPH_ARTIFACTS", REPO / "tmp" / "artifacts" / "dashboard"))
    out.mkdir(parents=True, exist_ok=True)
    return out


# --- the corpus -----------------------------------------------------------------------------


@dataclass
class Corpus:
    db: GraphDB
    records: dict[str, dict[str, Any]]
    embedder: Any
    run: str | None = None


@pytest.fixture(scope="module")
def minilm() -> Any:
    from pubgraph.core.models import resolve_model
    from pubgraph.embeddings.embed import Embedder

    path = resolve_model(Settings().base_model)
    if not Path(path).is_dir():
        pytest.skip("the offline all-MiniLM-L6-v2 copy is not installed")
    return Embedder.load(path, max_seq_length=64, device="cpu")


@pytest.fixture(scope="module")
def corpus(neo4j_driver: GraphDB, shared_data: Path, minilm: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The test Neo4j holding the three small real files, embedded."""
    import pyarrow.parquet as pq

    from pubgraph.embeddings.embed import embed_articles
    from pubgraph.embeddings.search import clear_status_cache
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.schema import init_schema, reset_graph
    from pubgraph.ingest.files import sync_files

    db = neo4j_driver
    parquet = tmp_path_factory.mktemp("dash-corpus") / "small.parquet"
    sync_files([shared_data / "pubmed_small" / f for f in SMALL_FILES], parquet, progress=False)
    rows = pq.read_table(parquet, columns=["pmid", "title", "abstract", "year"]).to_pylist()
    records = {r["pmid"]: r for r in rows}
    # Embedding and analysing take minutes on a busy machine: a graph that already holds
    # exactly this corpus embedded by this model (and an analysis run over it) is reused.
    embedded, run = _reusable(db, records, minilm)
    if not embedded:
        reset_graph(db, drop_schema=True)
        init_schema(db)
        GraphLoader(db).load_parquet([parquet])
        embed_articles(db, minilm, chunk_size=128)
        clear_status_cache()
        run = None
    if run is None:
        run = analyse(db, tmp_path_factory.mktemp("dash-analysis"))
    clear_status_cache()
    return Corpus(db, records, minilm, run)


def _reusable(db: GraphDB, records: dict[str, dict[str, Any]], embedder: Any
              ) -> tuple[bool, str | None]:
    """Whether the graph holds exactly ``records`` (as text articles) each embedded by
    ``embedder``'s model, and then an analysis run over all of them (or None)."""
    from pubgraph.analysis import read
    from pubgraph.embeddings.embed import iter_articles

    text = {r["pmid"] for r in records.values() if r["title"] or r["abstract"]}
    seen = {a["pmid"]: a for a in iter_articles(db) if not a["no_text"]}
    if set(seen) != text or any(a["model"] != embedder.info.id for a in seen.values()):
        return False, None
    runs = read.list_runs(db)
    ok = runs[runs["n_articles"] == len(text)]
    return True, (str(ok["id"].iloc[0]) if len(ok) else None)


def analyse(db: GraphDB, out: Path) -> str:
    """An analysis run (topics, trends, 2-D map) over the corpus, as `pubgraph analyze run`
    makes it; returns its id."""
    from pubgraph.analysis.run import AnalysisParams, run_analysis

    params = AnalysisParams(seed=1)
    params.validate()
    result = run_analysis(db, params, out, lambda stage, done, total: None)
    return str(result.id)


# --- the app over HTTP ----------------------------------------------------------------------


class Served:
    """A Dash app served by werkzeug in a thread."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app.server, threaded=True,
                                  request_handler=Quiet)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        from pubgraph.dashboard.app import context_of

        context_of(self.app).close()


def serve(settings: Settings, **kwargs: Any) -> Served:
    from pubgraph.dashboard.app import create_app

    return Served(create_app(lambda: connect(settings), **kwargs))


# --- the browser ----------------------------------------------------------------------------


def _chromium_missing() -> str | None:
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists():
            return f"{tool} is not installed (apt-get install chromium chromium-driver)"
    return None


class Browser:
    """A thin layer over Selenium: visit, wait for text, console errors, screenshots."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.base = ""

    def visit(self, path: str) -> None:
        self.driver.get(self.base + path)

    def wait(self, fn: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        end = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                value = fn()
                if value:
                    return value
            except Exception as exc:
                last = exc
            time.sleep(0.2)
        body = self.text("body")[:1500]
        raise AssertionError(f"timed out waiting for {what or fn}: {last}\npage text:\n{body}")

    def text(self, css: str) -> str:
        from selenium.webdriver.common.by import By

        try:
            return str(self.driver.find_element(By.CSS_SELECTOR, css).text)
        except Exception:
            return ""

    def wait_text(self, css: str, needle: str, timeout: float = 30.0) -> str:
        return str(self.wait(lambda: needle in self.text(css) and self.text(css), timeout,
                             f"{needle!r} in {css}"))

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, css), what=css)

    def path(self) -> str:
        from urllib.parse import urlsplit

        u = urlsplit(self.driver.current_url)
        return u.path + (f"?{u.query}" if u.query else "")

    def console_errors(self) -> list[dict[str, Any]]:
        """SEVERE browser-console entries since the last call."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        path = artifacts_dir() / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    missing = _chromium_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need Chromium in CI: {missing}", pytrace=False)
        pytest.skip(missing)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture()
def browser(chromium: Any) -> Browser:
    chromium.get_log("browser")  # drop what earlier tests left
    return Browser(chromium)
