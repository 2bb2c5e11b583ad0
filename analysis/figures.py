"""Figures of a run: pure ``DataFrame → plotly Figure`` functions, and PNG export.

The dashboard and the run folder use the same functions. PNGs are drawn with matplotlib
from the plotly figure itself (:func:`to_png`: lines, markers, stacked areas, bars, error
bars), so no browser or kaleido is needed.

Partial or flagged years (``partial`` / ``flagged`` columns) are drawn as open markers off
the line, never as a drop of the line; years missing between eras break the line instead
of being interpolated across.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363",
]
OTHER = "#c7c7c7"


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _short(label: str, n: int = 48) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _with_gaps(years: np.ndarray, values: np.ndarray) -> tuple[list[float], list[float]]:
    """Insert a None between years more than one apart, so lines break between eras."""
    xs: list[Any] = []
    ys: list[Any] = []
    for i, (x, y) in enumerate(zip(years, values, strict=True)):
        if i and x - years[i - 1] > 1:
            xs.append(None)
            ys.append(None)
        xs.append(float(x))
        ys.append(None if y is None or (isinstance(y, float) and np.isnan(y)) else float(y))
    return xs, ys


def trends_figure(
    year_counts: pd.DataFrame,
    topics: list[int] | None = None,
    *,
    top: int = 8,
    stacked: bool = False,
    title: str = "Topic shares per year",
) -> go.Figure:
    """Share (%) of each topic per year; ``year_counts``: ``topic, label, year, count,
    total, share`` and optionally ``partial`` / ``flagged``. Without ``topics``, the ``top``
    largest. ``stacked`` draws stacked areas (flagged years included, marked on hover)."""
    df = year_counts.copy()
    if "flagged" not in df:
        df["flagged"] = df.get("partial", False)
    if topics is None:
        sizes = df.groupby("topic")["count"].sum().sort_values(ascending=False)
        topics = sizes.index[:top].tolist()
    fig = go.Figure()
    for i, t in enumerate(topics):
        g = df[df["topic"] == t].sort_values("year")
        if g.empty:
            continue
        label = _short(str(g["label"].iloc[0]))
        share = (g["share"] * 100).to_numpy(dtype=float)
        years = g["year"].to_numpy()
        flagged = g["flagged"].to_numpy(dtype=bool)
        if stacked:
            xs, ys = _with_gaps(years, share)
            fig.add_trace(go.Scatter(x=xs, y=ys, name=label, mode="lines", stackgroup="one",
                                     line={"color": _color(i), "width": 0.5}))
            continue
        xs, ys = _with_gaps(years, np.where(flagged, np.nan, share))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, name=label, mode="lines+markers", connectgaps=False,
            line={"color": _color(i)}, marker={"size": 5},
            customdata=g[["count", "total"]].to_numpy(),
            hovertemplate="%{x}: %{y:.1f} %<extra>" + label + "</extra>",
        ))
        if flagged.any():
            fig.add_trace(go.Scatter(
                x=years[flagged].astype(float).tolist(), y=share[flagged].tolist(),
                name=f"{label} (partial/low year)", mode="markers", showlegend=False,
                marker={"color": _color(i), "symbol": "circle-open", "size": 9},
                hovertemplate="%{x} (partial or low year): %{y:.1f} %<extra></extra>",
            ))
    fig.update_layout(title=title, xaxis_title="year",
                      yaxis_title="share of the year's articles (%)",
                      legend={"font": {"size": 10}}, template="plotly_white")
    return fig


def topic_trend_figure(year_counts: pd.DataFrame, topic: int) -> go.Figure:
    """One topic: its share per year as bars, partial/flagged years pale."""
    g = year_counts[year_counts["topic"] == topic].sort_values("year")
    flagged = g.get("flagged", g.get("partial", pd.Series(False, index=g.index))).astype(bool)
    label = str(g["label"].iloc[0]) if len(g) else f"topic {topic}"
    colors = [OTHER if f else _color(0) for f in flagged]
    fig = go.Figure(go.Bar(
        x=g["year"].astype(float).tolist(), y=(g["share"] * 100).tolist(), marker={"color": colors},
        customdata=g[["count", "total"]].to_numpy(), name=_short(label),
        hovertemplate="%{x}: %{y:.2f} % (%{customdata[0]} of %{customdata[1]})<extra></extra>",
    ))
    fig.update_layout(title=_short(label, 80), xaxis_title="year",
                      yaxis_title="share of the year's articles (%)", template="plotly_white")
    return fig


def map_figure(points: pd.DataFrame, *, top: int = 20, title: str = "Map of the articles"
               ) -> go.Figure:
    """2-D map: ``x, y, topic, label`` (+ ``title``, ``year``, ``pmid`` for hover); the
    ``top`` largest topics coloured, the rest grey."""
    sizes = points["topic"].value_counts()
    big = sizes.index[:top].tolist()
    fig = go.Figure()
    rest = points[~points["topic"].isin(big)]
    if len(rest):
        fig.add_trace(go.Scattergl(x=rest["x"].tolist(), y=rest["y"].tolist(), mode="markers",
                                   name="other topics", marker={"color": OTHER, "size": 3},
                                   text=rest.get("title"), hoverinfo="text"))
    for i, t in enumerate(big):
        g = points[points["topic"] == t]
        fig.add_trace(go.Scattergl(
            x=g["x"].tolist(), y=g["y"].tolist(), mode="markers",
            name=_short(str(g["label"].iloc[0])), marker={"color": _color(i), "size": 4},
            text=g.get("title"), hoverinfo="text",
        ))
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False},
                      legend={"font": {"size": 9}}, template="plotly_white")
    return fig


def signature_figure(signature: pd.DataFrame, *, top: int = 15, title: str = "MeSH signature"
                     ) -> go.Figure:
    """Horizontal bars of the lift of a topic's top descriptors (``name, lift, q``)."""
    s = signature.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(
        x=s["lift"].tolist(), y=[_short(str(n), 40) for n in s["name"]], orientation="h",
        marker={"color": _color(0)}, customdata=s[["q"]].to_numpy(),
        hovertemplate="%{y}: lift %{x:.1f}, q %{customdata[0]:.2g}<extra></extra>",
    ))
    fig.update_layout(title=title, xaxis_title="lift (share in topic / share overall)",
                      template="plotly_white", margin={"l": 220})
    return fig


def effects_figure(topics: pd.DataFrame, *, top: int = 20,
                   title: str = "Yearly change of topic shares") -> go.Figure:
    """Forest plot: ``effect`` with ``ci_low``/``ci_high`` (%), topics with the smallest q."""
    t = topics.dropna(subset=["effect", "ci_low", "ci_high"]).sort_values("q").head(top)
    t = t.sort_values("effect")
    ys = [_short(f"{lab} ({tr})", 56) for lab, tr in zip(t["label"], t["trend"], strict=True)]
    fig = go.Figure(go.Scatter(
        x=(t["effect"] * 100).tolist(), y=ys, mode="markers", marker={"color": _color(0)},
        error_x={"type": "data", "symmetric": False,
                 # an era contrast's score interval need not contain the plain ratio
                 "array": ((t["ci_high"] - t["effect"]).clip(lower=0) * 100).tolist(),
                 "arrayminus": ((t["effect"] - t["ci_low"]).clip(lower=0) * 100).tolist()},
        name="change per year",
    ))
    fig.add_vline(x=0, line={"color": "#888", "dash": "dot"})
    fig.update_layout(title=title, xaxis_title="change of share (%, 95 % CI)",
                      template="plotly_white", margin={"l": 260})
    return fig


# --- PNG without a browser ------------------------------------------------------------------

_DASH = {"dot": ":", "dash": "--", "dashdot": "-.", "solid": "-", None: "-"}


def to_png(fig: go.Figure, path: str | Path, *, width: float = 10, height: float = 6) -> Path:
    """Draw a figure of this module with matplotlib into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig_m, ax = plt.subplots(figsize=(width, height), dpi=110)
    stack_base: np.ndarray | None = None
    stack_x: np.ndarray | None = None
    for tr in fig.data:
        kind = tr.type
        show = tr.showlegend is not False
        label = tr.name if show else None
        if kind in ("scatter", "scattergl"):
            x = np.array([np.nan if v is None else v for v in tr.x], dtype=float)
            color = (tr.line.color if tr.line and tr.line.color else None) or (
                tr.marker.color if tr.marker and isinstance(tr.marker.color, str) else None)
            if getattr(tr, "error_x", None) and tr.error_x.array is not None:
                err = np.vstack([tr.error_x.arrayminus, tr.error_x.array])
                ax.errorbar(x, np.arange(len(x)), xerr=err, fmt="o", color=color, label=label)
                ax.set_yticks(np.arange(len(x)), labels=list(tr.y), fontsize=7)
                continue
            y = np.array([np.nan if v is None else v for v in tr.y], dtype=float)
            if getattr(tr, "stackgroup", None):
                base = stack_base if stack_base is not None and stack_x is not None and \
                    len(stack_x) == len(x) else np.zeros_like(y)
                top = base + np.nan_to_num(y)
                ax.fill_between(x, base, top, color=color, alpha=0.8, label=label, linewidth=0)
                stack_base, stack_x = top, x
                continue
            mode = tr.mode or "lines"
            if "lines" in mode:
                dash = tr.line.dash if tr.line else None
                ax.plot(x, y, _DASH.get(dash, "-"), color=color, label=label,
                        marker="o" if "markers" in mode else None, markersize=3)
            elif "markers" in mode:
                symbol = str(tr.marker.symbol or "") if tr.marker else ""
                size = float(tr.marker.size or 4) if tr.marker else 4.0
                if "open" in symbol:
                    ax.scatter(x, y, s=size * 6, facecolors="none", edgecolors=color,
                               label=label)
                else:
                    ax.scatter(x, y, s=size, color=color, label=label, linewidths=0)
        elif kind == "bar":
            color = tr.marker.color if tr.marker else None
            if tr.orientation == "h":
                ax.barh(list(tr.y), list(tr.x), color=color, label=label)
                ax.tick_params(axis="y", labelsize=7)
            else:
                ax.bar(list(tr.x), list(tr.y), color=color, label=label)
    for shape in fig.layout.shapes or ():
        if shape.type == "line" and shape.x0 == shape.x1:
            ax.axvline(shape.x0, color="#888", linestyle=":")
    lay = fig.layout
    ax.set_title(lay.title.text or "", fontsize=11)
    if lay.xaxis.title.text:
        ax.set_xlabel(lay.xaxis.title.text)
    if lay.yaxis.title.text:
        ax.set_ylabel(lay.yaxis.title.text)
    if lay.xaxis.visible is False:
        ax.set_xticks([])
        ax.set_yticks([])
    _handles, labels = ax.get_legend_handles_labels()
    if labels and len(fig.data) > 1:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False,
                  markerscale=3 if any(t.type == "scattergl" for t in fig.data) else 1)
    fig_m.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig_m.savefig(path)
    plt.close(fig_m)
    return path
