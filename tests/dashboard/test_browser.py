"""The dashboard in a real headless Chromium against the real test Neo4j holding a small
real corpus (314 PubMed articles with citations, MeSH and MiniLM vectors).

Assertions are on the rendered text (and the URL), after the page's callbacks ran; every
page is also checked for browser-console errors and saved as a screenshot.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from pubgraph.core.settings import Settings
from pubgraph.graph.articles import cites_among
from tests.dashboard.conftest import Browser, Corpus, Served, serve

pytestmark = [pytest.mark.neo4j, pytest.mark.browser]

# A real record of air_embolism_121.xml.
KNOWN_PMID = "28644058"
KNOWN_TITLE = "Air embolism: diagnosis and management."


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained model's run folder as `pubgraph train` writes it (metadata + metrics)."""
    from pubgraph.train import report
    from pubgraph.train.trainer import META_FILE, METRICS_FILE

    out = tmp_path_factory.mktemp("runs") / "train" / "pubgraph-minilm"
    base = {"citation": {"map": 0.41, "ndcg@10": 0.52}, "biosses": {"spearman": 0.80}}
    tuned = {"citation": {"map": 0.47, "ndcg@10": 0.57}, "biosses": {"spearman": 0.78}}
    rows = report.comparison_rows(base, tuned)
    report.write_json(out / METRICS_FILE,
                      report.comparison_json(rows, "all-MiniLM-L6-v2", "pubgraph-minilm",
                                             base, tuned))
    report.write_json(out / META_FILE, {"pair_run_id": "abc123", "train_examples": 8000,
                                        "global_step": 250, "train_seconds": 612.0,
                                        "created": "2026-11-30T12:00:00"})
    return out.parents[1]


@pytest.fixture(scope="module")
def served(corpus: Corpus, neo4j_settings: Settings, runs_dir: Path) -> Iterator[Served]:
    s = serve(neo4j_settings, runs_dirs=[runs_dir], embedder_factory=lambda db: corpus.embedder)
    yield s
    s.stop()


@pytest.fixture()
def b(browser: Browser, served: Served) -> Browser:
    browser.base = served.url
    return browser


def _most_linked(corpus: Corpus) -> str:
    edges = cites_among(corpus.db, list(corpus.records))
    degree = Counter(p for e in edges for p in e)
    return degree.most_common(1)[0][0]


def test_trends_home_then_a_topic(b: Browser, corpus: Corpus) -> None:
    from pubgraph.analysis import read

    topics = read.topics(corpus.db, str(corpus.run))
    b.visit("/")
    page = b.wait_text("#trends-page", "trend test")
    assert f"analysis run {corpus.run}" in page
    b.find("#trends-graph .main-svg")  # the plotly figure is drawn
    notable = b.text("#trends-notable")
    flagged = topics[topics["trend"].isin(["emerging", "declining", "new"])]
    assert len(flagged) > 0, "the corpus mixes an old and a recent theme: some trend is found"
    for label, trend in zip(flagged["label"], flagged["trend"], strict=True):
        assert label in notable and trend in notable
    assert "q" in notable
    b.screenshot("trends")
    # click a topic: its page opens, with its label as the title
    from selenium.webdriver.common.by import By

    link = b.driver.find_element(By.CSS_SELECTOR, "#trends-notable a")
    label = link.text
    link.click()
    b.wait(lambda: b.path().startswith("/topic/"), what="navigation to the topic")
    topic_page = b.wait_text("#topic-page", "Nearest the topic")
    assert label in b.text("#topic-page .pg-title")
    assert "mesh signature" in topic_page.lower() and "related topics" in topic_page.lower()
    b.find("#topic-signature .main-svg")
    b.screenshot("topic")
    # a click on a line of the chart opens that line's topic
    from selenium.webdriver.common.action_chains import ActionChains

    b.visit("/")
    b.wait_text("#trends-page", "trend test")
    points = b.wait(lambda: b.driver.find_elements(
        By.CSS_SELECTOR, "#trends-graph .scatterlayer .trace .points path"), what="line points")
    ActionChains(b.driver).move_to_element(points[len(points) // 2]).click().perform()
    b.wait(lambda: b.path().startswith("/topic/"), what="navigation from the chart")
    b.wait_text("#topic-page", "Nearest the topic")
    # a shareable selection: two topics, stacked
    ids = [int(t) for t in topics["topic"] if int(t) >= 0][:2]
    b.visit(f"/?topics={ids[0]},{ids[1]}&mode=area")
    b.wait_text("#trends-page", "trend test")
    n_traces = b.wait(lambda: b.driver.execute_script(
        "const g = document.querySelector('#trends-graph .js-plotly-plot');"
        "return g && g.data ? g.data.length : 0;"), what="the figure's traces")
    assert n_traces == 2
    assert b.console_errors() == []


def test_map_follows_the_year_filter(b: Browser, corpus: Corpus) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    years = sorted(r["year"] for r in corpus.records.values() if r["year"])
    b.visit("/map")
    count = b.wait_text("#map-count", "articles in")
    assert count.startswith(f"{len(years)} articles in {years[0]}–{years[-1]}"), count
    b.find("#map-graph .main-svg")
    b.screenshot("map")
    # move the lower handle of the year slider with the keyboard, as a user can
    from selenium.common.exceptions import (
        ElementNotInteractableException,
        StaleElementReferenceException,
    )

    def press(key: str) -> None:
        # each key press rewrites the URL and the slider may re-render: find the handle anew
        # (and focus it again by a click) when the old one went stale
        for _attempt in range(20):
            try:
                handle = b.driver.find_elements(By.CSS_SELECTOR, "#map-years [role=slider]")[0]
                try:
                    handle.send_keys(key)
                except ElementNotInteractableException:
                    handle.click()
                    handle.send_keys(key)
                return
            except (StaleElementReferenceException, ElementNotInteractableException, IndexError):
                time.sleep(0.25)
        raise AssertionError("the year slider's handle never settled")

    b.driver.find_elements(By.CSS_SELECTOR, "#map-years [role=slider]")[0].click()

    for _ in range(5):
        press(Keys.PAGE_UP)
    def settled() -> tuple[int, int] | None:
        # each key press rewrites the URL; wait until the count matches the URL's range
        path = b.path()
        if "from=" not in path:
            return None
        start = int(path.split("from=")[1].split("&")[0])
        expected = sum(1 for y in years if y >= start)
        ok = f"{expected} articles in {start}–{years[-1]}" in b.text("#map-count")
        return (start, expected) if ok else None

    start, expected = b.wait(settled, what="the count of the URL's year range")
    assert start > years[0] and expected < len(years)
    # a click on a point opens its article (plotly's click event, as the graph emits it)
    title = b.driver.execute_script(
        "const g = document.querySelector('#map-graph .js-plotly-plot');"
        "const t = g.data[g.data.length - 1];"
        "g.emit('plotly_click', {points: [{x: t.x[0], y: t.y[0], curveNumber: g.data.length - 1,"
        " pointNumber: 0, data: t}]});"
        "return t.text ? t.text[0] : null;")
    b.wait(lambda: b.path().startswith("/article/"), what="navigation to the clicked article")
    if title:  # the figure's hover text is the title: the right article opened
        b.wait_text("#article-page", title[:40])
    assert b.console_errors() == []


def test_search_returns_the_expected_article(b: Browser, corpus: Corpus) -> None:
    b.visit("/search")
    box = b.find("#search-query input, input#search-query")
    box.send_keys("diagnosis and management of air embolism\n")
    # the form rewrote the URL (shareable) and the page rendered the results from it
    b.wait(lambda: "q=diagnosis" in b.path(), what="the query in the URL")
    results = b.wait_text("#search-results", KNOWN_TITLE)
    first_three = results.split("\n")[:12]
    assert any(KNOWN_TITLE in line for line in first_three), results[:800]
    assert "Embolism, Air" in results  # MeSH chips
    assert "Future cardiology" in results  # the journal's title, not its id
    b.screenshot("search")
    # a shared URL with filters renders the same way; a year filter excludes 2017
    b.visit("/search?q=" + quote("air embolism") + "&from=2018&to=2020&expand=1")
    filtered = b.wait_text("#search-page", "results for")
    assert KNOWN_TITLE not in filtered
    assert "citation neighbours of these results" in filtered.lower()
    assert b.console_errors() == []


def test_article_page_shows_its_neighbourhood(b: Browser, corpus: Corpus) -> None:
    pmid = _most_linked(corpus)
    title = corpus.records[pmid]["title"]
    b.visit(f"/article/{pmid}")
    page = b.wait_text("#article-page", "Near in vector space")
    assert title.rstrip(".")[:60] in page
    assert f"PMID {pmid}" in page
    lists = b.text("#article-lists").lower()  # headings are upper-cased by CSS
    assert "cites (" in lists and "cited by (" in lists
    # the cytoscape graph drew its canvas, with the neighbours as nodes
    b.find("#article-graph canvas")
    n_nodes = b.wait(lambda: b.driver.execute_script(
        "const el = document.querySelector('#article-graph');"
        "const host = el && [el, ...el.querySelectorAll('div')].find(d => d._cyreg);"
        "return host ? host._cyreg.cy.nodes().length : 0;"), what="cytoscape nodes")
    assert n_nodes >= 5
    b.screenshot("article")
    # a tap on a neighbour opens that article
    other = b.driver.execute_script(
        "const el = document.querySelector('#article-graph');"
        "const host = [el, ...el.querySelectorAll('div')].find(d => d._cyreg);"
        "const n = host._cyreg.cy.nodes().filter(x => x.id() !== arguments[0])[0];"
        "n.emit('tap'); return n.id();", pmid)
    b.wait(lambda: b.path() == f"/article/{other}", what="navigation to the tapped node")
    b.wait_text("#article-page", f"PMID {other}")
    assert b.console_errors() == []


def test_unknown_article_says_so(b: Browser, corpus: Corpus) -> None:
    b.visit("/article/999999999")
    text = b.wait_text("#article-page", "No such article")
    assert "999999999" in text
    assert b.console_errors() == []


def test_runs_page(b: Browser, corpus: Corpus) -> None:
    b.visit("/runs")
    models = b.wait_text("#runs-models", "pubgraph-minilm")
    assert "citation" in models and "+0.0600" in models  # map 0.41 -> 0.47
    assert "pubgraph pairs run" in b.text("#runs-pairs")  # no pair run: says what to run
    b.screenshot("runs")
    assert b.console_errors() == []


def test_stopped_neo4j_page_says_what_to_do(browser: Browser, tmp_path: Path) -> None:
    from pubgraph.graph.server import free_port

    dead = Settings(neo4j_uri=f"bolt://127.0.0.1:{free_port()}", neo4j_password="x")
    s = serve(dead)
    try:
        browser.base = s.url
        for path in ("/", "/search?q=x", "/article/1", "/map", "/runs"):
            browser.visit(path)
            text = browser.wait_text("#pg-neo4j-down", "Neo4j is not reachable")
            assert "pubgraph neo4j start" in text
            assert "Traceback" not in browser.text("body")
        browser.screenshot("neo4j-stopped")
        assert browser.console_errors() == []
    finally:
        s.stop()
