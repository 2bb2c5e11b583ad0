"""Read a stored run back: what the dashboard and ``analyze show`` display.

Every function takes a :class:`GraphDB` and returns DataFrames (or a dataclass of them);
nothing here recomputes the clustering. ``topic_detail`` runs the trend test on the
descriptors inside one topic (a few hundred counts, milliseconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pubgraph.analysis import queries as q
from pubgraph.analysis import trends as tr
from pubgraph.graph.db import GraphDB, run_read

RUN_COLUMNS = ["id", "method", "embedding_model", "created", "n_articles", "n_topics",
               "trend_method", "parameters", "metrics", "out_dir"]
TOPIC_COLUMNS = ["topic", "label", "size", "trend", "trend_method", "q", "effect", "ci_low",
                 "ci_high", "p", "terms", "descriptors", "mean_year"]
YEAR_COLUMNS = ["topic", "label", "year", "count", "total", "share", "partial", "flagged"]
MAP_COLUMNS = ["pmid", "title", "year", "x", "y", "topic", "label"]


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def list_runs(db: GraphDB) -> pd.DataFrame:
    """Every AnalysisRun, newest first; ``parameters`` and ``metrics`` as dicts."""
    df = pd.DataFrame(run_read(db, q.LIST_RUNS), columns=RUN_COLUMNS)
    for c in ("parameters", "metrics"):
        df[c] = df[c].map(_json)
    return df


def latest_run(db: GraphDB) -> str | None:
    """The id of the newest run, or None when there is none."""
    rows = run_read(db, q.LIST_RUNS)
    return str(rows[0]["id"]) if rows else None


def run_info(db: GraphDB, run: str) -> dict[str, Any] | None:
    """The run node's properties (parameters and metrics parsed), or None."""
    rows = run_read(db, q.RUN, {"run": run})
    if not rows:
        return None
    r = dict(rows[0])
    r["parameters"] = _json(r["parameters"])
    r["metrics"] = _json(r["metrics"])
    return r


def topics(db: GraphDB, run: str) -> pd.DataFrame:
    """``TOPIC_COLUMNS``, largest topic first. ``effect``: yearly change of the share (GLM)
    or the rate ratio minus one between eras (era contrast)."""
    return pd.DataFrame(run_read(db, q.TOPICS, {"run": run}), columns=TOPIC_COLUMNS)


def topic_year_counts(db: GraphDB, run: str) -> pd.DataFrame:
    """``topic, label, year, count, total, share, partial, flagged`` for every topic and
    every year of the run (zeros included)."""
    info = run_info(db, run)
    if info is None:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    frames = [_year_rows(info, r["topic"], r["label"], r["years"] or [], r["counts"] or [])
              for r in run_read(db, q.TOPIC_YEARS, {"run": run})]
    if not frames:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    return pd.concat(frames, ignore_index=True).sort_values(["topic", "year"],
                                                            ignore_index=True)


@dataclass
class TopicDetail:
    """One topic of a run, everything the detail view shows."""

    run: str
    topic: int
    label: str
    size: int
    trend: str
    trend_method: str | None
    q: float | None
    effect: float | None
    terms: list[str]
    signature: pd.DataFrame  # ui, name, lift, q, n, share
    representatives: pd.DataFrame  # pmid, title, year (nearest the centroid first)
    most_cited: pd.DataFrame  # pmid, title, year, in_degree, centrality, pagerank
    related: pd.DataFrame  # topic, label, similarity, citations (out + in)
    mesh_trends: pd.DataFrame  # ui, name, trend, trend_method, effect, q, n (inside the topic)
    year_counts: pd.DataFrame = field(default_factory=pd.DataFrame)


def _articles(db: GraphDB, pmids: list[str]) -> pd.DataFrame:
    rows = {r["pmid"]: r for r in run_read(db, q.ARTICLES_BY_PMID, {"pmids": pmids})}
    return pd.DataFrame([rows[p] for p in pmids if p in rows], columns=["pmid", "title", "year"])


def topic_detail(db: GraphDB, run: str, topic: int, *, mesh_top: int = 10) -> TopicDetail | None:
    """The topic's label, size, trend, signature, representative and most cited articles,
    related topics and the trends of its top descriptors inside it (share of the topic's
    articles per year); None when the run has no such topic."""
    key = f"{run}:{int(topic)}"
    rows = run_read(db, q.TOPIC, {"key": key})
    if not rows:
        return None
    t = rows[0]["topic"]
    sig = pd.DataFrame(run_read(db, q.TOPIC_SIGNATURE, {"key": key}),
                       columns=["ui", "name", "lift", "q", "n", "share"])
    cited = [str(p) for p in (t.get("most_cited") or [])]
    members = pd.DataFrame(run_read(db, q.TOPIC_MEMBERS, {"key": key, "pmids": cited}),
                           columns=["pmid", "title", "year", "pagerank", "in_degree",
                                    "centrality"]).set_index("pmid")
    most_cited = members.loc[[p for p in cited if p in members.index]].reset_index()
    rel = pd.DataFrame(run_read(db, q.TOPIC_RELATED, {"key": key}),
                       columns=["topic", "label", "similarity", "citations_out",
                                "citations_in"])
    rel["citations"] = rel["citations_out"] + rel["citations_in"]
    rel = rel.sort_values(["similarity"], ascending=False, ignore_index=True)
    years = [int(y) for y in t.get("years") or []]
    counts = [int(c) for c in t.get("counts") or []]
    topic_totals = pd.Series(counts, index=years, dtype=float)
    mesh_trends = pd.DataFrame(columns=["ui", "name", "trend", "trend_method", "effect", "q",
                                        "n"])
    uis = sig["ui"].head(mesh_top).tolist()
    if uis and topic_totals.sum() > 0:
        mc = pd.DataFrame(run_read(db, q.TOPIC_MESH_YEARS, {"key": key, "uis": uis}),
                          columns=["ui", "name", "year", "count"])
        if len(mc):
            table = tr.trend_table(mc.rename(columns={"ui": "key"})[["key", "year", "count"]],
                                   topic_totals)
            names = mc.drop_duplicates("ui").set_index("ui")["name"]
            table["name"] = table["key"].map(names)
            mesh_trends = table.rename(columns={"key": "ui"})[mesh_trends.columns]
    return TopicDetail(
        run=run, topic=int(topic), label=t.get("label") or f"topic {topic}",
        size=int(t.get("size") or 0), trend=t.get("trend") or "insufficient",
        trend_method=t.get("trend_method"), q=t.get("q"), effect=t.get("effect"),
        terms=list(t.get("terms") or []), signature=sig,
        representatives=_articles(db, list(t.get("representatives") or [])),
        most_cited=most_cited.reset_index(drop=True), related=rel[
            ["topic", "label", "similarity", "citations"]],
        mesh_trends=mesh_trends,
        year_counts=_year_rows(run_info(db, run), int(topic), t.get("label"), years, counts),
    )


def _year_rows(info: dict[str, Any] | None, topic: int, label: str | None, years: list[int],
               counts: list[int]) -> pd.DataFrame:
    """One topic's rows of :func:`topic_year_counts`, from its own Topic node."""
    if info is None:
        return pd.DataFrame(columns=YEAR_COLUMNS)
    totals = dict(zip(info["years"] or [], info["year_totals"] or [], strict=True))
    partial = set(info.get("partial_years") or [])
    flagged = set(info.get("flagged_years") or [])
    rows = [(topic, label, y, c, totals.get(y, 0),
             c / totals[y] if totals.get(y) else None, y in partial, y in flagged)
            for y, c in zip(years, counts, strict=True)]
    return pd.DataFrame(rows, columns=YEAR_COLUMNS).sort_values("year", ignore_index=True)


def map_points(
    db: GraphDB, run: str, year_min: int | None = None, year_max: int | None = None
) -> pd.DataFrame:
    """``pmid, title, year, x, y, topic, label`` of the run's mapped articles."""
    rows = run_read(db, q.MAP_POINTS, {"run": run, "year_min": year_min, "year_max": year_max})
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


def article_topic(db: GraphDB, run: str, pmid: str) -> dict[str, Any] | None:
    """The article's topic in the run (``topic, label, trend, x, y, pagerank, in_degree,
    participation, centrality, reassigned``), or None."""
    rows = run_read(db, q.ARTICLE_TOPIC, {"run": run, "pmid": str(pmid)})
    return dict(rows[0]) if rows else None


def mesh_trends(db: GraphDB, run: str) -> pd.DataFrame:
    """Descriptor trends over the whole run (``ui, name, trend, trend_method, q, effect,
    ci_low, ci_high, n``), smallest q first."""
    return pd.DataFrame(run_read(db, q.RUN_MESH_TRENDS, {"run": run}),
                        columns=["ui", "name", "trend", "trend_method", "q", "effect",
                                 "ci_low", "ci_high", "n"])


def assignments(db: GraphDB, run: str) -> pd.Series:
    """pmid → topic of every article of the run."""
    rows = run_read(db, q.RUN_ASSIGNMENTS, {"run": run})
    return pd.Series({r["pmid"]: r["topic"] for r in rows}, name="topic", dtype="int64")


def diff_runs(db: GraphDB, run_a: str, run_b: str) -> dict[str, Any]:
    """Agreement of two runs over their common articles (NMI, adjusted Rand) and, per topic
    of ``run_a``, the topic of ``run_b`` it overlaps most (Jaccard)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    a, b = assignments(db, run_a), assignments(db, run_b)
    common = a.index.intersection(b.index)
    out: dict[str, Any] = {"run_a": run_a, "run_b": run_b, "common_articles": len(common),
                           "only_a": int(len(a) - len(common)), "only_b": int(len(b) - len(common))}
    if len(common) == 0:
        out.update(nmi=None, ari=None, matches=[])
        return out
    x, y = a.loc[common], b.loc[common]
    out["nmi"] = float(normalized_mutual_info_score(x, y))
    out["ari"] = float(adjusted_rand_score(x, y))
    la = topics(db, run_a).set_index("topic")["label"]
    lb = topics(db, run_b).set_index("topic")["label"]
    ct = pd.crosstab(x, y)
    size_a, size_b = ct.sum(axis=1), ct.sum(axis=0)
    matches = []
    for t in ct.index:
        inter = ct.loc[t]
        jac = inter / (size_a[t] + size_b - inter)
        best = int(jac.idxmax())
        matches.append({"topic_a": int(t), "label_a": la.get(t), "topic_b": best,
                        "label_b": lb.get(best), "jaccard": float(jac[best])})
    out["matches"] = matches
    return out
