"""Markdown tables and a PNG of a stored run's trends (for docs/analysis.md).

    python bench/report_trends.py --uri bolt://127.0.0.1:7711 --password benchpass123 \\
        --run latest --png docs/analysis-alz-trends.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main() -> None:
    from _graph import add_graph_args, open_graph

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_graph_args(ap)
    ap.add_argument("--run", default="latest")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--png", default=None)
    ap.add_argument("--year-min", type=int, default=2000, help="First year drawn.")
    args = ap.parse_args()

    from pubgraph.analysis import figures as fg
    from pubgraph.analysis import read

    db = open_graph(args)
    run = read.latest_run(db) if args.run == "latest" else args.run
    assert run is not None, "no run"
    info = read.run_info(db, run)
    assert info is not None
    print(f"run {run}: {info['n_topics']} topics, {info['n_articles']} articles, "
          f"{info['trend_method']}, flagged years {info['flagged_years']}")
    tp = read.topics(db, run)
    print("\n", tp["trend"].value_counts().to_dict())
    for title, kinds in (("emerging", ["emerging", "grew", "new"]),
                         ("declining", ["declining", "shrank", "vanished"])):
        t = tp[tp["trend"].isin(kinds)].sort_values("q").head(args.top)
        print(f"\n**Topics {title}** ({len(tp[tp['trend'].isin(kinds)])} in all)\n")
        print(_row(["topic", "label", "articles", "change of share / year (95 % CI)", "q"]))
        print(_row(["---"] * 5))
        for r in t.itertuples(index=False):
            print(_row([r.topic, r.label, r.size,
                        f"{r.effect:+.1%} ({r.ci_low:+.1%} … {r.ci_high:+.1%})",
                        f"{r.q:.2g}"]))
    mt = read.mesh_trends(db, run)
    print("\n", mt["trend"].value_counts().to_dict())
    for title, kind in (("emerging", "emerging"), ("declining", "declining")):
        t = mt[mt["trend"] == kind].sort_values("q").head(args.top)
        print(f"\n**MeSH descriptors {title}** ({int((mt['trend'] == kind).sum())} in all)\n")
        print(_row(["descriptor", "articles", "change of share / year (95 % CI)", "q"]))
        print(_row(["---"] * 4))
        for r in t.itertuples(index=False):
            print(_row([r.name, r.n, f"{r.effect:+.1%} ({r.ci_low:+.1%} … {r.ci_high:+.1%})",
                        f"{r.q:.2g}"]))
    if args.png:
        years = read.topic_year_counts(db, run)
        years = years[years["year"] >= args.year_min]
        moving = tp[tp["trend"].isin(["emerging", "declining"])].sort_values("q")
        pick = (moving[moving["effect"] > 0].head(4)["topic"].tolist()
                + moving[moving["effect"] < 0].head(4)["topic"].tolist())
        fig = fg.trends_figure(years, pick, title="Alzheimer corpus: topics with the "
                               "strongest trends (share of each year's articles)")
        fg.to_png(fig, args.png, width=12, height=6)
        print("\nwrote", args.png)
    db.close()


if __name__ == "__main__":
    main()
