"""One analysis run: read → cluster → label → trends → structure → map → write.

``run_analysis(db, params, out_dir, progress)`` is the whole job; the CLI and benchmarks
call it. The run id is derived from the parameters, the embedding model and a fingerprint
of the analysed articles, so the same inputs and seed give the same id (and the same
topics): running it again replaces the run in the graph instead of adding one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pubgraph.analysis import cluster as cl
from pubgraph.analysis import labels as lb
from pubgraph.analysis import structure as st
from pubgraph.analysis import trends as tr
from pubgraph.analysis.reference import mesh_classes, nmi
from pubgraph.analysis.vectors import (
    Corpus,
    Progress,
    _no_progress,
    choose_model,
    load_citations,
    load_corpus,
    load_mesh,
)
from pubgraph.core.errors import ConfigError
from pubgraph.graph.db import GraphDB


@dataclass(frozen=True)
class AnalysisParams:
    """What a run does. ``k``: k-means' k, or the number of topics leiden aims at
    (None: k by silhouette / resolution as given)."""

    method: str = "leiden"
    k: int | None = None
    seed: int = 42
    model: str | None = None
    citations: bool = True
    map: bool = True
    map_method: str = "auto"  # umap when installed, else pca
    min_topic_size: int = 5
    k_neighbors: int = 15
    knn_dims: int = 64
    resolution: float = 1.0
    citation_weight: float = 1.0
    hdbscan_reduce: str = "umap"
    hdbscan_min_cluster_size: int = 10
    reassign_outliers: bool = True
    alpha: float = 0.05
    min_years: int = 8
    min_mesh_articles: int = 20
    write: bool = True

    def validate(self) -> None:
        """Raise ConfigError naming the option that is wrong."""
        if self.method not in cl.METHODS:
            raise ConfigError(f"unknown method {self.method!r} (use {', '.join(cl.METHODS)})",
                              "--method")
        if self.k is not None and self.k < 2:
            raise ConfigError(f"k must be at least 2, not {self.k}", "--k")
        if self.hdbscan_reduce not in ("umap", "pca", "none"):
            raise ConfigError(f"unknown reduction {self.hdbscan_reduce!r}", "--reduce")


@dataclass
class RunResult:
    """A finished run: its id, tables, metrics and where its files are."""

    id: str
    params: AnalysisParams
    model: str
    tables: dict[str, pd.DataFrame]
    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    out_dir: Path | None = None

    def summary(self, top: int = 5) -> dict[str, Any]:
        """Topics, outliers and the top emerging / declining topics with q."""
        t = self.tables["topics"]
        up = t[t["trend"].isin(["emerging", "grew", "new"])].sort_values("q").head(top)
        down = t[t["trend"].isin(["declining", "shrank", "vanished"])].sort_values("q").head(top)
        cols = ["topic", "label", "size", "trend", "effect", "q"]
        return {
            "run": self.id,
            "method": self.params.method,
            "model": self.model,
            **{k: self.metrics[k] for k in ("n_articles", "n_topics", "outlier_share",
                                             "reassigned_share", "unassigned_share",
                                             "trend_method", "nmi_mesh") if k in self.metrics},
            "rising": up[cols].to_dict(orient="records"),
            "falling": down[cols].to_dict(orient="records"),
            "timings": self.timings,
            "out_dir": str(self.out_dir) if self.out_dir else None,
        }


def run_id(params: AnalysisParams, model: str, fingerprint: str) -> str:
    """``<method>-<12 hex>``: equal for equal parameters, model and articles."""
    p = {k: v for k, v in asdict(params).items() if k not in ("write", "model")}
    blob = json.dumps({"params": p, "model": model, "fp": fingerprint}, sort_keys=True)
    return f"{params.method}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def cluster_corpus(
    corpus: Corpus, params: AnalysisParams, cites: pd.DataFrame | None
) -> cl.Clustering:
    """The clustering step alone (benchmarks call it directly)."""
    x = corpus.vectors
    if params.method == "kmeans":
        return cl.kmeans(x, params.k, params.seed)
    if params.method == "hdbscan":
        return cl.hdbscan(x, params.seed, reduce=params.hdbscan_reduce,
                          min_cluster_size=params.hdbscan_min_cluster_size,
                          reassign_outliers=params.reassign_outliers)
    edges = None
    if params.citations and cites is not None and len(cites):
        edges = cl.citation_edges(corpus.pmids, cites)
    return cl.leiden(x, params.seed, edges=edges, k_neighbors=params.k_neighbors,
                     knn_dims=params.knn_dims, resolution=params.resolution,
                     target_k=params.k, citation_weight=params.citation_weight,
                     min_size=params.min_topic_size)


def run_analysis(
    db: GraphDB,
    params: AnalysisParams,
    out_dir: Path | None = None,
    progress: Progress = _no_progress,
) -> RunResult:
    """Run the whole analysis on the stored vectors of one model and write it back.

    ``out_dir``: where the run's folder ``<out_dir>/<run id>`` (Parquet tables, PNG
    figures, ``run.json``) goes; None writes no files.
    """
    params.validate()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        progress(name, 1, 1)
        return now

    model = choose_model(db, params.model)
    corpus = load_corpus(db, model, progress)
    cites = load_citations(db, corpus.pmids, progress)
    mesh = load_mesh(db, corpus.pmids, progress)
    t = lap("read", t0)
    rid = run_id(params, model, corpus.fingerprint())

    clustering = cluster_corpus(corpus, params, cites)
    labels = clustering.labels
    t = lap("cluster", t)

    assign = pd.DataFrame({"pmid": corpus.pmids, "topic": labels,
                           "reassigned": clustering.reassigned, "year": corpus.years})
    topic_ids = sorted(int(v) for v in set(labels.tolist()) - {-1})
    signature = lb.mesh_signature(assign, mesh, alpha=params.alpha)
    terms = lb.top_terms(corpus.texts, labels)
    names = lb.topic_labels(topic_ids, signature, terms)
    t = lap("labels", t)

    tp = tr.TrendParams(min_years=params.min_years, alpha=params.alpha)
    dated = assign[assign["year"].notna() & (assign["topic"] >= 0)].astype({"year": int})
    totals = dated.groupby("year").size()
    flags = tr.year_flags(totals, tp) if len(totals) else pd.DataFrame(
        columns=["year", "total", "partial", "low", "sparse", "flagged"])
    counts = dated.groupby(["topic", "year"]).size().rename("count").reset_index()
    counts = counts.rename(columns={"topic": "key"})
    topic_trends = (tr.trend_table(counts, totals, tp, flags) if len(counts)
                    else pd.DataFrame(columns=tr.TREND_COLUMNS))
    years = tr.year_table(counts, flags) if len(counts) else pd.DataFrame(
        columns=["key", "year", "count", "total", "share", "partial", "sparse", "flagged"])
    years = years.rename(columns={"key": "topic"})
    years["label"] = years["topic"].map(names)
    mesh_trends = _mesh_trends(mesh, dated, totals, flags, tp, params.min_mesh_articles)
    t = lap("trends", t)

    structure = st.article_structure(corpus.pmids, labels, cites)
    flow = st.citation_flow(corpus.pmids, labels, cites)
    bridge = st.bridges(structure)
    related, reps, cited = _relations(corpus, labels, topic_ids, structure, flow)
    t = lap("structure", t)

    xy = np.full((corpus.n, 2), np.nan)
    map_method = "none"
    if params.map:
        from pubgraph.analysis.mapping import map_2d

        xy, map_method = map_2d(corpus.vectors, params.seed, params.map_method)
        t = lap("map", t)

    topics = _topics_table(topic_ids, names, assign, signature, terms, topic_trends, years,
                           reps, cited, corpus)
    classes = mesh_classes(mesh)
    score, n_ref, n_cls = nmi(corpus.pmids, labels, classes)
    metrics: dict[str, Any] = {
        "n_articles": corpus.n,
        "n_topics": len(topic_ids),
        "outlier_share": round(float(clustering.info.get("raw_outlier_share",
                                                          clustering.reassigned.mean())), 4),
        "reassigned_share": round(float(clustering.reassigned.mean()), 4),
        "unassigned_share": round(float(np.mean(labels < 0)), 4),
        # The method the topics were tested with (sparse years excluded, as trend_table does).
        "trend_method": _method_used(topic_trends),
        "nmi_mesh": round(score, 4) if score == score else None,
        "nmi_articles": n_ref,
        "nmi_classes": n_cls,
        "n_citations": len(cites),
        "map_method": map_method,
        "cluster_info": {k: v for k, v in clustering.info.items()
                         if k not in ("resolutions_tried", "aggregate_resolutions_tried")},
    }
    memberships = assign[["pmid", "topic", "reassigned"]].merge(
        structure[["pmid", "pagerank", "in_degree", "participation", "centrality"]], on="pmid")
    memberships["x"] = xy[:, 0]
    memberships["y"] = xy[:, 1]
    memberships = memberships[memberships["topic"] >= 0]
    created = datetime.now(UTC).isoformat()
    run_props = {
        "id": rid, "method": params.method, "parameters": asdict(params),
        "embedding_model": model, "created": created, "metrics": metrics,
        "n_articles": corpus.n, "n_topics": len(topic_ids),
        "years": flags["year"].astype(int).tolist(),
        "year_totals": flags["total"].astype(int).tolist(),
        "flagged_years": flags.loc[flags["flagged"], "year"].astype(int).tolist(),
        "partial_years": flags.loc[flags["partial"], "year"].astype(int).tolist(),
        "trend_method": metrics["trend_method"], "fingerprint": corpus.fingerprint(),
        "seed": params.seed, "out_dir": None,
    }
    folder = Path(out_dir) / rid if out_dir is not None else None
    if folder is not None:
        run_props["out_dir"] = str(folder)
    if params.write:
        metrics["written"] = _write(db, run_props, topics, memberships, signature, related,
                                    mesh_trends)
        t = lap("write", t)
    tables = {
        "topics": topics, "assignments": memberships, "signatures": signature, "terms": terms,
        "topic_years": years, "mesh_trends": mesh_trends, "related": related,
        "structure": structure, "bridges": bridge, "year_flags": flags,
    }
    result = RunResult(rid, params, model, tables, metrics, timings, folder)
    if folder is not None:
        save_folder(result, run_props)
        lap("files", t)
    timings["total"] = round(time.perf_counter() - t0, 3)
    return result


def _method_used(table: pd.DataFrame) -> str:
    """``glm`` or ``era``: how ``trend_table`` tested (``none`` when nothing was)."""
    methods = {str(m) for m in table.get("trend_method", pd.Series(dtype=str)).dropna()}
    if any(m.startswith("era") for m in methods):
        return "era"
    return "glm" if any(m.endswith("glm") for m in methods) else "none"


def _write(db: GraphDB, run_props: dict[str, Any], topics: pd.DataFrame,
           memberships: pd.DataFrame, signature: pd.DataFrame, related: pd.DataFrame,
           mesh_trends: pd.DataFrame) -> dict[str, int]:
    from pubgraph.analysis.write import write_run

    topic_cols = ["id", "label", "size", "trend", "trend_method", "q", "p", "effect", "ci_low",
                  "ci_high", "kendall_tau", "kendall_p", "theil_slope", "terms", "descriptors",
                  "years", "counts", "shares", "representatives", "most_cited", "mean_year"]
    sig = signature.rename(columns={})
    mt = mesh_trends[mesh_trends["p"].notna()] if len(mesh_trends) else mesh_trends
    return write_run(db, run_props, topics[topic_cols], memberships, sig, related, mt)


def _mesh_trends(mesh: pd.DataFrame, dated: pd.DataFrame, totals: pd.Series,
                 flags: pd.DataFrame, tp: tr.TrendParams, min_articles: int) -> pd.DataFrame:
    cols = ["ui", "name", *[c for c in tr.TREND_COLUMNS if c != "key"]]
    if mesh.empty or dated.empty:
        return pd.DataFrame(columns=cols)
    m = mesh.drop_duplicates(["pmid", "ui"]).merge(dated[["pmid", "year"]], on="pmid")
    n = m.groupby("ui")["pmid"].size()
    m = m[m["ui"].isin(n[n >= min_articles].index)]
    if m.empty:
        return pd.DataFrame(columns=cols)
    counts = m.groupby(["ui", "year"]).size().rename("count").reset_index()
    table = tr.trend_table(counts.rename(columns={"ui": "key"}), totals, tp, flags)
    names = mesh.drop_duplicates("ui").set_index("ui")["name"]
    table = table.rename(columns={"key": "ui"})
    table.insert(1, "name", table["ui"].map(names))
    return table.sort_values(["q", "ui"]).reset_index(drop=True)


def _relations(
    corpus: Corpus, labels: np.ndarray, topic_ids: list[int], structure: pd.DataFrame,
    flow: pd.DataFrame, n_similar: int = 5, n_reps: int = 5,
) -> tuple[pd.DataFrame, dict[int, list[str]], dict[int, list[str]]]:
    """RELATED rows (top similar centroids + citation flow), representatives nearest the
    centroid, most cited inside the topic."""
    ids, c = cl.centroids(corpus.vectors, labels)
    sim = c @ c.T
    np.fill_diagonal(sim, -np.inf)
    pairs: dict[tuple[int, int], dict[str, float]] = {}
    for a_i, a in enumerate(ids):
        for b_i in np.argsort(-sim[a_i], kind="stable")[:n_similar]:
            if np.isfinite(sim[a_i, b_i]):
                pairs[(int(a), int(ids[b_i]))] = {"similarity": float(sim[a_i, b_i])}
    pos = {int(t): i for i, t in enumerate(ids)}
    for src, dst, n_cit in flow[["source", "target", "citations"]].to_numpy(dtype=np.int64):
        key = (int(src), int(dst))
        if key in pairs or n_cit >= 3:
            sim_ab = float(sim[pos[key[0]], pos[key[1]]])
            pairs.setdefault(key, {"similarity": sim_ab})["citations"] = int(n_cit)
    related = pd.DataFrame(
        [{"source": a, "target": b, "similarity": v["similarity"],
          "citations": int(v.get("citations", 0))} for (a, b), v in sorted(pairs.items())],
        columns=["source", "target", "similarity", "citations"],
    )
    reps: dict[int, list[str]] = {}
    cited: dict[int, list[str]] = {}
    pmids = np.asarray(corpus.pmids)
    by_pmid = structure.set_index("pmid")
    for t in topic_ids:
        members = np.flatnonzero(labels == t)
        d = corpus.vectors[members] @ c[pos[t]]
        reps[t] = pmids[members[np.argsort(-d, kind="stable")[:n_reps]]].tolist()
        sub = by_pmid.loc[pmids[members], ["centrality", "in_degree", "pagerank"]]
        sub = sub[sub["in_degree"] > 0]
        sub = sub.sort_values(["centrality", "in_degree", "pagerank"], ascending=False)
        cited[t] = sub.index[:n_reps].tolist()
    return related, reps, cited


def _topics_table(
    topic_ids: list[int], names: dict[int, str], assign: pd.DataFrame,
    signature: pd.DataFrame, terms: pd.DataFrame, trends: pd.DataFrame, years: pd.DataFrame,
    reps: dict[int, list[str]], cited: dict[int, list[str]], corpus: Corpus,
) -> pd.DataFrame:
    sizes = assign[assign["topic"] >= 0].groupby("topic").size()
    mean_year = assign[assign["topic"] >= 0].groupby("topic")["year"].mean()
    trend = trends.set_index("key") if len(trends) else pd.DataFrame()
    rows = []
    for t in topic_ids:
        y = years[years["topic"] == t].sort_values("year")
        tr_row = trend.loc[t] if t in trend.index else pd.Series(dtype=object)
        rows.append({
            "id": t, "topic": t, "label": names[t], "size": int(sizes.get(t, 0)),
            "trend": tr_row.get("trend", "insufficient"),
            "trend_method": tr_row.get("trend_method"),
            **{k: tr_row.get(k, np.nan) for k in ("q", "p", "effect", "ci_low", "ci_high",
                                                  "kendall_tau", "kendall_p", "theil_slope")},
            "terms": terms.loc[terms["topic"] == t, "term"].tolist(),
            "descriptors": signature.loc[signature["topic"] == t, "name"].head(10).tolist(),
            "years": y["year"].astype(int).tolist(),
            "counts": y["count"].astype(int).tolist(),
            "shares": y["share"].astype(float).round(6).tolist(),
            "representatives": reps.get(t, []),
            "most_cited": cited.get(t, []),
            "mean_year": float(mean_year.get(t, np.nan)),
        })
    return pd.DataFrame(rows)


def save_folder(result: RunResult, run_props: dict[str, Any]) -> Path:
    """Parquet tables, PNG figures and ``run.json`` into the run's folder."""
    from pubgraph.analysis import figures as fg
    from pubgraph.analysis.write import clean

    assert result.out_dir is not None
    folder = result.out_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in result.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    topics = result.tables["topics"]
    years = result.tables["topic_years"]
    if "sparse" in years:  # a handful of articles in a year: shares are noise, not drawn
        years = years[~years["sparse"].astype(bool)]
    if len(years):
        fg.to_png(fg.trends_figure(years), folder / "trends.png")
        moving = topics[topics["trend"].isin(
            ["emerging", "declining", "grew", "shrank", "new", "vanished"])]
        pick = moving.sort_values("q").head(8)["topic"].tolist()
        if pick:
            fg.to_png(fg.trends_figure(years, pick, title="Topics with a significant trend"),
                      folder / "trends_significant.png")
        if topics["effect"].notna().any():
            fg.to_png(fg.effects_figure(topics), folder / "effects.png")
    a = result.tables["assignments"]
    if a["x"].notna().any():
        pts = a.merge(topics[["topic", "label"]], on="topic")
        fg.to_png(fg.map_figure(pts), folder / "map.png", width=11, height=8)
    manifest = {**run_props, "timings": result.timings, "summary": result.summary()}
    (folder / "run.json").write_text(json.dumps(clean(manifest), indent=2, default=str))
    return folder
