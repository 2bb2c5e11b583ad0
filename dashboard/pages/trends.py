"""Trends (home): topic share per year (lines or stacked areas), a topic selector, and the
emerging / declining / new topics with their q-values and the test used. Partial years are
drawn as such and a gap between eras stays a gap (``analysis.figures.trends_figure``). A
click on a line or a topic card opens the topic.

State: ``/?topics=3,7,12&mode=area``.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import current
from pubgraph.dashboard.helpers import curve_topics, parse_topics

dash.register_page(__name__, path="/", title="Trends · pubgraph", name="Trends", order=0)  # type: ignore[no-untyped-call]

HIGHLIGHT = ("emerging", "declining", "new")
TOP_DEFAULT = 8
CARDS = 24


def trend_badge(trend: str | None, q: float | None, method: str | None,
                effect: float | None = None) -> html.Span:
    trend = trend or "insufficient"
    bits = [trend]
    if q is not None and q == q:  # not NaN
        bits.append(c.fmt_q(q))
    tip = f"test: {method or '–'}" + (f"; effect {effect:+.3g}" if effect is not None
                                      and effect == effect else "")
    return c.badge(" · ".join(bits), trend, title=tip)


def topic_card(row: dict[str, Any], colour: str | None = None) -> html.Div:
    t = int(row["topic"])
    return html.Div(
        [
            html.Div([html.Span(className="pg-dot",
                                style={"background": colour or "#c7c7c7"}),
                      dcc.Link(str(row["label"]), href=f"/topic/{t}", id=f"trends-topic-{t}",
                               className="pg-topic-title")]),
            html.Div([c.badge(f"{int(row['size']):,} articles"),
                      " ", trend_badge(row.get("trend"), row.get("q"), row.get("trend_method"),
                                       row.get("effect"))]),
            html.Div(f"test: {row.get('trend_method') or '–'}", className="pg-muted"),
        ],
        className="pg-topic-card",
    )


@c.guard
def layout(topics: str = "", mode: str = "lines", **_: Any) -> Any:
    ctx = current()
    run = data.run_id(ctx)
    figures = data.analysis_figures()
    tdf = data.topics(ctx, run)
    years = data.topic_year_counts(ctx, run)
    if tdf.empty or years.empty:
        return c.page("Topic trends", c.notice(
            "The analysis run has no topics", f"Run {run} stored no topic counts.",
            data.ANALYSIS_COMMAND), page_id="trends-page")
    chosen = [t for t in parse_topics(topics) if t in set(tdf["topic"].astype(int))]
    stacked = mode == "area"

    def build() -> tuple[Any, list[int | None], dict[int, str]]:
        fig = figures.trends_figure(years, topics=chosen or None, top=TOP_DEFAULT,
                                    stacked=stacked)
        fig.update_layout(height=470, margin={"l": 60, "r": 20, "t": 50, "b": 40},
                          clickmode="event")
        curves = curve_topics(fig, tdf)
        # a card's dot has its line's colour (topics off the chart: grey)
        colours: dict[int, str] = {}
        for topic_id, trace in zip(curves, fig.data, strict=True):
            colour = getattr(getattr(trace, "line", None), "color", None)
            if topic_id is not None and colour and topic_id not in colours:
                colours[topic_id] = str(colour)
        return fig, curves, colours

    # A run never changes: the figure of a (run, selection, mode) is built once.
    fig, curves, colours = ctx.cached(("trends-figure", run, tuple(chosen), stacked), build,
                                      600.0)
    rows = tdf.to_dict("records")
    notable = [r for r in rows if r.get("trend") in HIGHLIGHT and int(r["topic"]) >= 0]
    notable.sort(key=lambda r: (HIGHLIGHT.index(r["trend"]),
                                r["q"] if r.get("q") == r.get("q") and r.get("q") is not None
                                else 1.0))
    partial = sorted(set(years.loc[years["partial"].astype(bool), "year"].astype(int))) \
        if "partial" in years else []
    info = data.run_summary(ctx, run)
    subtitle = c.meta_line(
        f"analysis run {run}",
        f"{info.get('n_articles', '–'):,} articles" if isinstance(info.get("n_articles"), int)
        else None,
        f"{len(tdf)} topics",
        f"trend test: {info.get('trend_method') or '–'}",
        f"partial years (drawn apart): {', '.join(map(str, partial))}" if partial else None,
    )
    options = [{"label": f"{r['label']} ({int(r['size']):,})", "value": int(r["topic"])}
               for r in rows if int(r["topic"]) >= 0]
    controls = html.Div(
        [
            dcc.Dropdown(id="trends-topics", options=options, value=chosen, multi=True,
                         placeholder=f"the {TOP_DEFAULT} largest topics (choose to compare)",
                         className="pg-dropdown"),
            dcc.RadioItems(id="trends-mode", value="area" if stacked else "lines",
                           options=[{"label": " lines", "value": "lines"},
                                    {"label": " stacked areas", "value": "area"}],
                           inline=True, inputStyle={"marginLeft": "10px"}),
        ],
        className="pg-controls",
    )
    highlighted = html.Div(
        [topic_card(r, colours.get(int(r["topic"]))) for r in notable[:CARDS]],
        className="pg-topics", id="trends-notable") if notable else html.P(
        "No topic passes its trend test at the run's false-discovery rate.",
        className="pg-muted", id="trends-notable")
    others = [r for r in rows if r not in notable and int(r["topic"]) >= 0]
    return c.page(
        "Topic trends",
        html.Div([controls,
                  dcc.Graph(id="trends-graph", figure=fig, config={"displaylogo": False}),
                  html.P("Click a line to open its topic. Open markers: partial or low-count "
                         "years; breaks: years with no data between eras.",
                         className="pg-muted")], className="pg-card"),
        html.H3("Emerging, declining and new topics"),
        highlighted,
        html.H3("All topics"),
        html.Div([topic_card(r, colours.get(int(r["topic"]))) for r in others[:CARDS]],
                 className="pg-topics",
                 id="trends-all"),
        dcc.Store(id="trends-curves", data=curves),
        dcc.Location(id="trends-nav", refresh="callback-nav"),
        subtitle=subtitle,
        page_id="trends-page",
    )


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("trends-nav", "href"),
        Input("trends-topics", "value"),
        Input("trends-mode", "value"),
        Input("trends-graph", "clickData"),
        State("trends-curves", "data"),
        prevent_initial_call=True,
    )
    def navigate(topics: list[int] | None, mode: str | None, click: dict[str, Any] | None,
                 curves: list[int | None] | None) -> str:
        """A click on a line opens its topic; a new selection or mode rewrites the URL."""
        if dash.ctx.triggered_id == "trends-graph":
            points = (click or {}).get("points") or []
            curve = points[0].get("curveNumber") if points else None
            if curve is None or not curves or curve >= len(curves) or curves[curve] is None:
                raise dash.exceptions.PreventUpdate
            return f"/topic/{curves[curve]}"
        return c.href("/", topics=",".join(str(int(t)) for t in topics or []) or None,
                      mode="area" if mode == "area" else None)
