"""Parse benchmark: pubgraph's PubMed parser against pubmed_parser, same run, same files.

Each (parser, file, repetition) runs in its own subprocess, so peak RSS is that parse's
alone (the worker reports ``ru_maxrss`` of itself, and its RSS right after the imports).
Repetitions are interleaved (rep 1 of every case, then rep 2, ...) so both parsers see the
same machine load. Reports medians of throughput (articles per wall second and per CPU
second), peak RSS, and the ratio ours / pubmed_parser.

    python bench/bench_parse.py                   # both shared PubMed files, 3 repetitions
    python bench/bench_parse.py --reps 5 --json out.json
    python bench/bench_parse.py --worker ours FILE   # one measurement (used internally)

The baseline call is ``pubmed_parser.parse_medline_xml(path, year_info_only=False,
nlm_category=False, author_list=True, reference_list=True)`` (pubmed_parser 0.5.1).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FILE_NAMES = ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(parser: str, paths: list[str]) -> dict[str, Any]:
    """Parse ``paths`` fully with one parser; counts, timings and memory as a dict."""
    sys.path.insert(0, str(REPO))
    if parser == "ours":
        from pubgraph.ingest.pubmed import iter_pubmed
        from pubgraph.ingest.records import Article
    elif parser == "pubmed_parser":
        import pubmed_parser
    else:  # "lxml floor": gunzip + iterparse + clear, no extraction at all
        import gzip

        from lxml import etree
    rss_start = _current_rss_mib()
    counts = {"articles": 0, "cited_pmids": 0, "mesh_headings": 0, "authors": 0, "deletions": 0}
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        if parser == "ours":
            for r in iter_pubmed(path):
                if isinstance(r, Article):
                    counts["articles"] += 1
                    counts["cited_pmids"] += sum(1 for ref in r.references if ref.pmid)
                    counts["mesh_headings"] += len(r.mesh)
                    counts["authors"] += len(r.authors)
                else:
                    counts["deletions"] += 1
        elif parser == "lxml floor":
            with gzip.open(path, "rb") as f:
                for _, el in etree.iterparse(f, events=("end",), tag="PubmedArticle"):
                    counts["articles"] += 1
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
        else:
            for d in pubmed_parser.parse_medline_xml(
                path,
                year_info_only=False,
                nlm_category=False,
                author_list=True,
                reference_list=True,
            ):
                counts["articles"] += 1
                counts["cited_pmids"] += sum(1 for ref in d["references"] if ref["pmid"])
                counts["mesh_headings"] += len([m for m in d["mesh_terms"].split(";") if m])
                counts["authors"] += len(d["authors"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        **counts,
        "wall_s": wall,
        "cpu_s": cpu,
        "rss_start_mib": rss_start,
        "peak_rss_mib": _rss_mib(),
    }


def run_case(parser: str, paths: list[Path]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", parser, *map(str, paths)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the raw measurements here")
    ap.add_argument(
        "--worker", choices=["ours", "pubmed_parser", "lxml floor"], help=argparse.SUPPRESS
    )
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.paths)))
        return 0

    # Imported here, not at the top: worker processes re-import this module, and their
    # memory must hold only the parser being measured.
    sys.path.insert(0, str(REPO))
    from pubgraph.core.settings import shared_data_dir

    files = [shared_data_dir() / "pubmed" / name for name in FILE_NAMES]
    cases: list[tuple[str, str, list[Path]]] = []
    for f in files:
        for parser in ("ours", "pubmed_parser", "lxml floor"):
            cases.append((parser, f.name, [f]))
    # Memory must not grow with input: both files in one process.
    cases.append(("ours", "both files", files))
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rep in range(args.reps):
        for parser, label, paths in cases:
            r = run_case(parser, paths)
            results.setdefault((parser, label), []).append(r)
            print(
                f"rep {rep + 1}: {parser:14s} {label:22s} {r['articles']:>6} articles "
                f"{r['wall_s']:6.2f} s wall {r['cpu_s']:6.2f} s cpu "
                f"{r['peak_rss_mib']:6.0f} MiB peak",
                file=sys.stderr,
            )

    def med(parser: str, label: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(parser, label)])

    print(f"\nParse benchmark, {args.reps} repetitions, medians")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    head = (
        f"{'file':22s} {'parser':14s} {'articles':>8s} {'art/s wall':>10s} {'art/s cpu':>10s} "
        f"{'peak MiB':>8s} {'+MiB':>6s} {'cited':>7s} {'mesh':>7s} {'authors':>8s} {'del':>4s}"
    )
    print(head)
    print("-" * len(head))
    rows = []
    for parser, label, _ in cases:
        rs = results[(parser, label)]
        n = rs[0]["articles"]
        row = {
            "file": label,
            "parser": parser,
            "articles": n,
            "wall_s": med(parser, label, "wall_s"),
            "cpu_s": med(parser, label, "cpu_s"),
            "peak_rss_mib": med(parser, label, "peak_rss_mib"),
            "rss_growth_mib": statistics.median(r["peak_rss_mib"] - r["rss_start_mib"] for r in rs),
            **{k: rs[0][k] for k in ("cited_pmids", "mesh_headings", "authors", "deletions")},
        }
        rows.append(row)
        print(
            f"{label:22s} {parser:14s} {n:>8,} {n / row['wall_s']:>10,.0f} "
            f"{n / row['cpu_s']:>10,.0f} {row['peak_rss_mib']:>8.0f} "
            f"{row['rss_growth_mib']:>6.0f} {row['cited_pmids']:>7,} "
            f"{row['mesh_headings']:>7,} {row['authors']:>8,} {row['deletions']:>4}"
        )
    print()
    for f in files:
        ours = next(r for r in rows if r["file"] == f.name and r["parser"] == "ours")
        base = next(r for r in rows if r["file"] == f.name and r["parser"] == "pubmed_parser")
        print(
            f"{f.name}: ours / pubmed_parser throughput = {base['wall_s'] / ours['wall_s']:.2f}x "
            f"(wall), {base['cpu_s'] / ours['cpu_s']:.2f}x (cpu); peak RSS "
            f"{ours['peak_rss_mib']:.0f} vs {base['peak_rss_mib']:.0f} MiB"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "raw": {
            f"{p}|{label}": v for (p, label), v in results.items()}}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
