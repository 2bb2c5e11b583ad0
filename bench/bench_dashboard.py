"""Latency of every dashboard interaction, through HTTP to the running app's callback
endpoint (``/_dash-update-component``), warm, N requests each.

Starts the real ``pubgraph dashboard`` in a subprocess against the Neo4j in the
environment (``NEO4J_URI`` / ``NEO4J_PASSWORD``), waits for it, warms every interaction,
then times each one N times (default 200) with the exact JSON body the browser posts.
Requests vary where a user's would (queries, PMIDs, topics, year ranges rotate) so the
figures are not one cached answer. Prints one row per interaction: p50, p95, max (ms) and
the response size.

    NEO4J_URI=bolt://127.0.0.1:7711 NEO4J_PASSWORD=... python bench/bench_dashboard.py

Interactions: page renders (the router callback: trends, trends with a topic selection,
stacked mode, topic, search, search with filters, search expanded by citations, article,
map, map with a year range, runs) and the in-page callbacks (search form submit, trends
selector, map year slider and point click, article node tap).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pubgraph.dashboard.app import router_body  # noqa: E402  (the same body the tests post)

QUERIES = [
    "amyloid beta clearance by microglia", "tau phosphorylation kinase", "apolipoprotein E4 risk",
    "cognitive decline in older adults", "synaptic plasticity hippocampus", "neuroinflammation",
    "mild cognitive impairment biomarkers", "cerebrospinal fluid biomarkers", "insulin signalling",
    "oxidative stress mitochondria", "randomized controlled trial of exercise", "air embolism",
    "cancer immunotherapy", "vaccine efficacy", "gut microbiome", "deep brain stimulation",
]


def callback_body(output: str, inputs: list[tuple[str, str, Any]],
                  state: list[tuple[str, str, Any]], changed: str) -> dict[str, Any]:
    oid, prop = output.split(".")
    return {
        "output": output,
        "outputs": {"id": oid, "property": prop},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [changed],
    }


def percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def start_app(port: int, analysis_run: str | None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "pubgraph", "dashboard", "--port", str(port)]
    if analysis_run:
        cmd += ["--analysis-run", analysis_run]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    # The access log goes to a file: an unread pipe fills after ~600 requests and then
    # blocks the server's request threads on their log write.
    log = tempfile.NamedTemporaryFile(prefix="bench-dashboard-", suffix=".log", delete=False)  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}/healthz"
    for _ in range(240):
        try:
            if requests.get(url, timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the dashboard did not come up: "
                     + Path(log.name).read_text(errors="replace")[-2000:])


def sample_ids(s: requests.Session, base: str, run: str | None = None) -> dict[str, Any]:
    """PMIDs, topics, years and map points to rotate through, read from the pages."""
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect

    out: dict[str, Any] = {"pmids": [], "topics": [], "points": [], "years": None}
    with connect(get_settings()) as db:
        from pubgraph.embeddings.embed import iter_articles
        from pubgraph.graph.articles import year_range

        for row in iter_articles(db):
            if row["has_vector"]:
                out["pmids"].append(row["pmid"])
            if len(out["pmids"]) >= 400:
                break
        out["pmids"] = out["pmids"][::2]
        out["years"] = year_range(db)
        try:
            from pubgraph.analysis import read

            run = run or read.latest_run(db)
            if run:
                t = read.topics(db, run)
                out["topics"] = [int(x) for x in t["topic"] if int(x) >= 0]
                pts = read.map_points(db, run)
                if len(pts):
                    out["points"] = pts.sample(n=min(200, len(pts)), random_state=0)[
                        ["x", "y"]].to_dict("records")
                out["run"] = run
        except ImportError:
            pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=200, help="timed requests per interaction")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--url", help="an already running dashboard (default: start one)")
    ap.add_argument("--analysis-run")
    ap.add_argument("--only", help="comma-separated interaction names")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    proc = None if args.url else start_app(args.port, args.analysis_run)
    base = args.url or f"http://127.0.0.1:{args.port}"
    s = requests.Session()
    s.get(base + "/")
    ids = sample_ids(s, base, args.analysis_run)
    pmids, topics, points = ids["pmids"], ids["topics"], ids["points"]
    y0, y1 = ids["years"] or (2000, 2020)
    mid = (y0 + y1) // 2
    spans = [(y, min(y1, y + w)) for w in (3, 5, 10) for y in range(y0, y1, 2)] or [(y0, y1)]

    def rot(xs: list[Any], i: int) -> Any:
        return xs[i % len(xs)]

    def query(i: int) -> str:
        # a new text every request: each search encodes its query (no repeated answer)
        return f"{rot(QUERIES, i)} {i}" if i >= len(QUERIES) else rot(QUERIES, i)

    cases: dict[str, Callable[[int], dict[str, Any]]] = {
        "page: search (text)": lambda i: router_body("/search?q=" + quote(query(i))),
        "page: search (years + expand)": lambda i: router_body(
            f"/search?q={quote(query(i))}&from={mid - 5}&to={mid + 5}&expand=1"),
        "page: article": lambda i: router_body(f"/article/{rot(pmids, i)}"),
        "page: runs": lambda i: router_body("/runs"),
        "callback: search submit": lambda i: callback_body(
            "search-nav.href",
            [("search-submit", "n_clicks", i + 1), ("search-query", "n_submit", None)],
            [("search-query", "value", rot(QUERIES, i)), ("search-year-min", "value", None),
             ("search-year-max", "value", None), ("search-mesh", "value", ""),
             ("search-journal", "value", ""), ("search-k", "value", 10),
             ("search-expand", "value", [])], "search-submit.n_clicks"),
        "callback: article node tap": lambda i: callback_body(
            "article-nav.href", [("article-graph", "tapNodeData", {"id": rot(pmids, i)})], [],
            "article-graph.tapNodeData"),
    }
    if topics and points:
        cases.update({
            "page: trends (home)": lambda i: router_body("/"),
            "page: trends (3 topics, stacked)": lambda i: router_body(
                f"/?topics={rot(topics, i)},{rot(topics, i + 1)},{rot(topics, i + 2)}&mode=area"),
            "page: topic": lambda i: router_body(f"/topic/{rot(topics, i)}"),
            "page: map": lambda i: router_body("/map"),
            "page: map (year range)": lambda i: router_body(
                "/map?from={}&to={}".format(*rot(spans, i))),
            "callback: trends selector": lambda i: callback_body(
                "trends-nav.href",
                [("trends-topics", "value", [rot(topics, i)]), ("trends-mode", "value", "lines"),
                 ("trends-graph", "clickData", None)], [("trends-curves", "data", topics)],
                "trends-topics.value"),
            "callback: map year slider": lambda i: callback_body(
                "map-nav.href",
                [("map-years", "value", list(rot(spans, i))), ("map-graph", "clickData", None)],
                [("map-years", "min", y0), ("map-years", "max", y1)], "map-years.value"),
            "callback: map point click": lambda i: callback_body(
                "map-nav.href",
                [("map-years", "value", [y0, y1]),
                 ("map-graph", "clickData", {"points": [{**rot(points, i), "curveNumber": 0}]})],
                [("map-years", "min", y0), ("map-years", "max", y1)], "map-graph.clickData"),
        })
    # page renders (the costly ones) first, then the in-page callbacks
    cases = dict(sorted(cases.items(), key=lambda kv: kv[0].startswith("callback")))
    if args.only:
        keep = set(args.only.split(","))
        cases = {k: v for k, v in cases.items() if k in keep}

    url = base + "/_dash-update-component"
    results = []
    try:
        for name, body in cases.items():
            for i in range(5):  # warm: model loaded, caches and connections made
                r = s.post(url, json=body(i), timeout=120)
                r.raise_for_status()
                if b"Something went wrong" in r.content or b"pg-neo4j-down" in r.content:
                    raise SystemExit(f"{name}: the page reports a failure: {r.text[:400]}")
            times, sizes = [], []
            for i in range(args.n):
                b = body(i)
                t = time.perf_counter()
                r = s.post(url, json=b, timeout=120)
                times.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
                sizes.append(len(r.content))
            row = {"interaction": name, "n": args.n, "p50_ms": statistics.median(times),
                   "p95_ms": percentile(times, 0.95), "max_ms": max(times),
                   "kb": statistics.median(sizes) / 1024}
            results.append(row)
            if not args.json:
                print(f"{name:38s} p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  "
                      f"max {row['max_ms']:7.1f} ms  {row['kb']:7.1f} KB", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    if args.json:
        print(json.dumps({"graph": os.environ.get("NEO4J_URI"), "run": ids.get("run"),
                          "results": results}, indent=2))
    worst = max(results, key=lambda r: r["p95_ms"])
    print(f"worst p95: {worst['interaction']} {worst['p95_ms']:.1f} ms "
          f"({'meets' if worst['p95_ms'] < 300 else 'misses'} the 300 ms goal)")


if __name__ == "__main__":
    main()
