"""Pairing benchmark: every default strategy on the full shared PubMed graph, against a
Python baseline computed in the same run from exported edge lists.

1. (unless ``--reuse``) parse both shared PubMed files, load them and the MeSH tree numbers
   into the configured Neo4j (``NEO4J_URI``...; the graph is emptied first);
2. ``--reps`` full default runs (cites, co_citation, bib_coupling, shared_mesh,
   random_distant, hard): total seconds, per-strategy pairs and pairs/s, the share of pairs
   crossing splits (must be 0), and whether the repetitions gave identical pairs;
3. baseline: the positive strategies' candidate sets computed in Python (dicts/Counters)
   from the CITES and HAS_MESH edge lists exported with one query each, checked to equal
   the Cypher candidates; and the ``random_distant`` graph filter (no shared MeSH, no CITES
   path <= 2) as a networkx BFS with cutoff over the same proposals. Ratio = Cypher / Python
   seconds (> 1: Python faster).

    python bench/bench_pairs.py                    # load, 3 repetitions
    python bench/bench_pairs.py --reuse --reps 3 --json out.json --write-docs
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pubgraph.core.settings import shared_data_dir  # noqa: E402  (after the path insert)

SHARED = shared_data_dir()
FILES = [SHARED / "pubmed" / "pubmed20n0014.xml.gz", SHARED / "pubmed" / "pubmed21n1298.xml.gz"]
MESH_TSV = SHARED / "mesh" / "tree-numbers.tsv"

# Edge lists for the baseline (one query each).
EXPORT_CITES = """
MATCH (a:Article)-[:CITES]->(b:Article)
RETURN a.pmid AS src, b.pmid AS dst, a.stub = false AS src_text, b.stub = false AS dst_text
"""
EXPORT_HAS_MESH = """
MATCH (a:Article)-[:HAS_MESH]->(m:MeshTerm)
WHERE a.stub = false
RETURN a.pmid AS pmid, m.ui AS ui
"""
EXPORT_TEXT = "MATCH (a:Article) WHERE a.stub = false RETURN a.pmid AS pmid"


def load_graph(driver: Any, cache: Path) -> dict[str, float]:
    from pubgraph.graph.loader import GraphLoader
    from pubgraph.graph.mesh import load_mesh
    from pubgraph.graph.schema import init_schema, reset_graph
    from pubgraph.ingest.files import sync_files

    out: dict[str, float] = {}
    parquet = cache / "pubmed_both.parquet"
    if not parquet.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        sync_files(FILES, parquet, progress=False)
        out["parse_s"] = time.perf_counter() - t
    reset_graph(driver)
    init_schema(driver)
    t = time.perf_counter()
    GraphLoader(driver).load_parquet([parquet])
    out["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    load_mesh(driver, MESH_TSV)
    out["load_mesh_s"] = time.perf_counter() - t
    return out


# --- Python baseline -----------------------------------------------------------------------


def export_edges(driver: Any) -> tuple[dict[str, Any], float]:
    from pubgraph.graph.db import run_read

    t = time.perf_counter()
    cites = run_read(driver, EXPORT_CITES)
    mesh = run_read(driver, EXPORT_HAS_MESH)
    text = {r["pmid"] for r in run_read(driver, EXPORT_TEXT)}
    return {"cites": cites, "mesh": mesh, "text": text}, time.perf_counter() - t


def py_cites(e: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (r["src"], r["dst"])
        for r in e["cites"]
        if r["src_text"] and r["dst_text"] and r["src"] != r["dst"]
    }


def _overlap(
    groups: dict[str, set[str]], sizes: dict[str, int], text: set[str], k: int
) -> dict[tuple[str, str], float]:
    """Pairs of text members sharing >= k groups; Salton score (|∩| / sqrt(|A||B|))."""
    counts: Counter[tuple[str, str]] = Counter()
    for members in groups.values():
        members_text = sorted(m for m in members if m in text)
        for a, b in itertools.combinations(members_text, 2):
            counts[(a, b)] += 1
    return {p: c / math.sqrt(sizes[p[0]] * sizes[p[1]]) for p, c in counts.items() if c >= k}


def py_co_citation(e: dict[str, Any], k: int) -> dict[tuple[str, str], float]:
    refs: dict[str, set[str]] = defaultdict(set)  # citer -> cited
    citers: dict[str, set[str]] = defaultdict(set)
    for r in e["cites"]:
        refs[r["src"]].add(r["dst"])
        citers[r["dst"]].add(r["src"])
    return _overlap(refs, {p: len(c) for p, c in citers.items()}, e["text"], k)


def py_bib_coupling(e: dict[str, Any], k: int) -> dict[tuple[str, str], float]:
    refs: dict[str, set[str]] = defaultdict(set)
    citers: dict[str, set[str]] = defaultdict(set)
    for r in e["cites"]:
        refs[r["src"]].add(r["dst"])
        citers[r["dst"]].add(r["src"])
    return _overlap(citers, {p: len(c) for p, c in refs.items()}, e["text"], k)


def py_shared_mesh(
    e: dict[str, Any], k: int, max_df: float, min_idf: float
) -> dict[tuple[str, str], float]:
    members: dict[str, set[str]] = defaultdict(set)
    for r in e["mesh"]:
        members[r["ui"]].add(r["pmid"])
    n = len({r["pmid"] for r in e["mesh"]})
    idf = {u: math.log(n / len(m)) for u, m in members.items() if 2 <= len(m) <= max_df * n}
    counts: Counter[tuple[str, str]] = Counter()
    weight: Counter[tuple[str, str]] = Counter()
    for u, w in idf.items():
        for a, b in itertools.combinations(sorted(members[u]), 2):
            counts[(a, b)] += 1
            weight[(a, b)] += w
    return {p: weight[p] for p, c in counts.items() if c >= k and weight[p] >= min_idf}


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reuse", action="store_true", help="Use the graph already loaded.")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=REPO / ".pubgraph" / "bench")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Parallel transactions for the pairwise queries (run_pairs default 2).",
    )
    ap.add_argument(
        "--write-docs",
        action="store_true",
        help="Append a '## Pairing' section to docs/benchmarks.md.",
    )
    ap.add_argument(
        "--docs-from", type=Path, help="Only append the docs section from a saved --json result."
    )
    args = ap.parse_args()
    if args.docs_from:
        append_docs(json.loads(args.docs_from.read_text()), args)
        return

    import networkx as nx
    import numpy as np

    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect
    from pubgraph.pairing.config import PairingConfig, default_params
    from pubgraph.pairing.jobs import graph_fingerprint, run_pairs
    from pubgraph.pairing.queries import no_path_within
    from pubgraph.pairing.strategies import StatementRunner, generate_positives, job_for

    driver = connect(get_settings())
    result: dict[str, Any] = {
        "date": str(date.today()),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_start": os.getloadavg()[0],
    }
    if not args.reuse:
        result["load"] = load_graph(driver, args.cache)
        print("load:", {k: round(v, 1) for k, v in result["load"].items()}, flush=True)
    fp = graph_fingerprint(driver)
    result["graph"] = fp
    print("graph:", fp, flush=True)

    # 1. full default runs
    config = PairingConfig()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            t = time.perf_counter()
            r = run_pairs(driver, config, Path(tmp) / f"r{rep}", record=False, workers=args.workers)
            runs.append((time.perf_counter() - t, r))
            print(f"run {rep + 1}: {runs[-1][0]:.1f}s, {r.counts['pairs']} pairs", flush=True)
    first = runs[0][1]
    per_strategy = {}
    for name in config.strategies:
        secs = [r.counts["by_strategy"][name]["seconds"] for _, r in runs]
        kept = first.counts["by_strategy"][name]["kept"]
        per_strategy[name] = {
            "pairs": kept,
            "candidates": first.counts["by_strategy"][name].get("candidates"),
            "seconds_median": round(median(secs), 2),
            "pairs_per_s": round(kept / median(secs), 1) if median(secs) > 0 else None,
        }
    result["default_run"] = {
        "seconds": [round(s, 1) for s, _ in runs],
        "seconds_median": round(median([s for s, _ in runs]), 1),
        "pairs": first.counts["pairs"],
        "positives": first.counts["positives"],
        "negatives": first.counts["negatives"],
        "by_split": first.counts["by_split"],
        "cross_split_share": first.counts["cross_split_share"],
        "dropped_cross_split": first.counts["dropped_cross_split"],
        "identical_across_reps": all(r.pairs == first.pairs for _, r in runs),
        "per_strategy": per_strategy,
    }
    print(json.dumps(result["default_run"], indent=1), flush=True)

    # 2. positives: Cypher candidates vs Python from exported edge lists
    exports = []
    for _ in range(args.reps):
        edges, secs = export_edges(driver)
        exports.append(secs)
    result["edge_export_s"] = round(median(exports), 2)
    runner = StatementRunner(driver, workers=args.workers)
    baseline: dict[str, Any] = {}
    for name in ("cites", "co_citation", "bib_coupling", "shared_mesh"):
        params = default_params(name)
        job = job_for(name, params)
        cy_times, py_times = [], []
        for _ in range(args.reps):
            t = time.perf_counter()
            cands, _ = generate_positives(job, runner, sorted(edges["text"]))
            cy_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            if name == "cites":
                py = {p: 1.0 for p in py_cites(edges)}
            elif name == "co_citation":
                py = py_co_citation(edges, params.k)  # type: ignore[union-attr]
            elif name == "bib_coupling":
                py = py_bib_coupling(edges, params.k)  # type: ignore[union-attr]
            else:
                py = py_shared_mesh(
                    edges,
                    params.k,
                    params.max_df,  # type: ignore[union-attr]
                    params.min_idf,
                )  # type: ignore[union-attr]
            py_times.append(time.perf_counter() - t)
        cy = {(c.pmid_a, c.pmid_b): c.score for c in cands}
        same = cy.keys() == py.keys() and all(math.isclose(cy[p], py[p], rel_tol=1e-6) for p in cy)
        baseline[name] = {
            "candidates": len(cy),
            "same_as_python": same,
            "cypher_s": round(median(cy_times), 2),
            "python_s": round(median(py_times), 2),
            "ratio_cypher_over_python": round(median(cy_times) / max(median(py_times), 1e-9), 2),
            "ratio_incl_export": round(
                median(cy_times) / max(median(py_times) + result["edge_export_s"], 1e-9), 2
            ),
        }
        print(name, baseline[name], flush=True)

    # 3. random_distant filter: Cypher statement vs networkx BFS (cutoff 2) + MeSH sets
    text = sorted(edges["text"])
    rng = np.random.default_rng(1)
    proposals = [[text[i], text[j]] for i, j in rng.integers(len(text), size=(20000, 2)) if i != j]
    query = no_path_within(2)
    from pubgraph.graph.db import run_read

    cy_times, py_times = [], []
    for _ in range(args.reps):
        t = time.perf_counter()
        ok_cy = set()
        for i in range(0, len(proposals), 2000):
            for r in run_read(driver, query, {"pairs": proposals[i : i + 2000], "excluded": []}):
                ok_cy.add((r["pmid_a"], r["pmid_b"]))
        cy_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        g = nx.Graph()
        g.add_edges_from((r["src"], r["dst"]) for r in edges["cites"])
        mesh_of: dict[str, set[str]] = defaultdict(set)
        for r in edges["mesh"]:
            mesh_of[r["pmid"]].add(r["ui"])
        ok_py = set()
        for a, b in proposals:
            if mesh_of.get(a, set()) & mesh_of.get(b, set()):
                continue
            if a in g and b in nx.single_source_shortest_path_length(g, a, cutoff=2):
                continue
            ok_py.add((a, b))
        py_times.append(time.perf_counter() - t)
    baseline["random_distant_filter"] = {
        "proposals": len(proposals),
        "accepted": len(ok_cy),
        "same_as_python": ok_cy == ok_py,
        "cypher_s": round(median(cy_times), 2),
        "python_s": round(median(py_times), 2),
        "ratio_cypher_over_python": round(median(cy_times) / max(median(py_times), 1e-9), 2),
    }
    print("random_distant filter", baseline["random_distant_filter"], flush=True)
    result["baseline"] = baseline
    result["load_avg_end"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.write_docs:
        append_docs(result, args)
    driver.close()


def append_docs(r: dict[str, Any], args: argparse.Namespace) -> None:
    d = r["default_run"]
    g = r["graph"]
    lines = [
        "",
        "## Pairing",
        "",
        f"Date 2026-11-22; machine: 2-core, 24 GiB, Python {r['python']}, Java 17, Neo4j 5.26 "
        f"Community (heap 1g, page cache 512m); load average {r['load_avg_start']:.1f} at start, "
        f"{r['load_avg_end']:.1f} at end (other jobs shared the 2 cores).",
        f"Command: `python bench/bench_pairs.py{' --reuse' if args.reuse else ''} --reps "
        f"{args.reps} --write-docs`. Graph: both shared PubMed files ({g['text_articles']:,} text "
        f"articles, {g['stubs']:,} stubs, {g['cites']:,} CITES, {g['has_mesh']:,} HAS_MESH) + MeSH "
        "2015 tree numbers.",
        "",
        f"All default strategies together (cites, co_citation, bib_coupling, shared_mesh, "
        f"random_distant, hard; default parameters, seed 13): median **{d['seconds_median']} s** "
        f"(runs: {', '.join(str(s) for s in d['seconds'])} s) for {d['pairs']:,} pairs "
        f"({d['positives']:,} positive, {d['negatives']:,} negative; train/validation/test "
        f"{d['by_split']['train']:,}/{d['by_split']['validation']:,}/{d['by_split']['test']:,}). "
        f"Pairs crossing splits: share {d['cross_split_share']:.1%} "
        f"({d['dropped_cross_split']:,} candidates dropped for crossing). Identical pairs in every "
        f"repetition: {d['identical_across_reps']}.",
        "",
        "| strategy | candidates | pairs kept | median s | pairs/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in d["per_strategy"].items():
        cands = f"{s['candidates']:,}" if s["candidates"] is not None else "-"
        lines.append(
            f"| {name} | {cands} | {s['pairs']:,} | {s['seconds_median']} | {s['pairs_per_s']:,} |"
        )
    lines += [
        "",
        "Baseline, same run: the same candidates computed in Python (dicts, Counters, networkx) "
        f"from edge lists exported with one query each ({r['edge_export_s']} s, median). "
        "Ratio = Cypher s / Python s (> 1: Python faster).",
        "",
        "| job | rows | same result | Cypher s | Python s | ratio | ratio incl. export |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, b in r["baseline"].items():
        rows = b.get("candidates", b.get("accepted"))
        lines.append(
            f"| {name} | {rows:,} | {b['same_as_python']} | {b['cypher_s']} | "
            f"{b['python_s']} | {b['ratio_cypher_over_python']} | "
            f"{b.get('ratio_incl_export', '-')} |"
        )
    path = REPO / "docs" / "benchmarks.md"
    text = "\n".join(lines) + "\n"
    if not path.exists():
        text = "# Benchmarks\n" + text
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
