"""Topic ``/topic/<topic>``: label, MeSH signature (lift, q), representative and most-cited
articles, its trend, related topics, and the MeSH descriptors trending inside it."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import current
from pubgraph.dashboard.pages.trends import trend_badge

dash.register_page(__name__, path_template="/topic/<topic>", title="Topic · pubgraph",
                   name="Topic")  # type: ignore[no-untyped-call]

LIST = 12


def _articles(df: Any, empty: str, extra: str | None = None) -> Any:
    if df is None or len(df) == 0:
        return html.P(empty, className="pg-muted")
    items = []
    for r in df.head(LIST).to_dict("records"):
        meta = [str(int(r["year"])) if r.get("year") == r.get("year") and r.get("year")
                is not None else None]
        if extra and r.get(extra) is not None:
            meta.append(f"{extra.replace('_', ' ')} {r[extra]:,}" if isinstance(r[extra], int)
                        else f"{extra.replace('_', ' ')} {r[extra]:.3g}")
        items.append(html.Li([c.article_link(str(r["pmid"]), r.get("title")),
                              c.meta_line(*[m for m in meta if m])]))
    return html.Ul(items, className="pg-list")


@c.guard
def layout(topic: str = "", **_: Any) -> Any:
    ctx = current()
    run = data.run_id(ctx)
    figures = data.analysis_figures()
    if not str(topic).lstrip("-").isdigit():
        return c.page("Topic not found", c.notice("No such topic", f"{topic!r} is not a topic "
                                                  "number."), page_id="topic-page")
    detail = data.topic_detail(ctx, run, int(topic))
    if detail is None:
        return c.page("Topic not found", c.notice(
            "No such topic", f"Analysis run {run} has no topic {topic}."), page_id="topic-page")

    def build() -> tuple[Any, Any]:
        trend_fig = figures.topic_trend_figure(detail.year_counts, detail.topic).update_layout(
            height=300, margin={"t": 40}) if len(detail.year_counts) else None
        sig_fig = figures.signature_figure(detail.signature).update_layout(
            height=380, margin={"t": 40}) if len(detail.signature) else None
        return trend_fig, sig_fig

    # Built once per run and topic, like the trends and map figures (runs are immutable).
    trend_fig, sig_fig = ctx.cached(("topic-figures", run, int(topic)), build, 600.0)
    trend = html.Div([
        dcc.Graph(id="topic-trend", figure=trend_fig, config={"displaylogo": False})
        if trend_fig is not None else html.P("No yearly counts.", className="pg-muted"),
    ])
    sig = detail.signature
    signature = html.Div([
        dcc.Graph(id="topic-signature", figure=sig_fig, config={"displaylogo": False}),
        c.table(["descriptor", "lift", "q", "articles"], [
            [c.chip(str(r["name"] or r["ui"]), link=c.href("/search", q=r["name"] or r["ui"],
                                                         mesh=r["ui"])),
             f"{r['lift']:.1f}", c.fmt_q(r["q"]), f"{int(r['n']):,}" if "n" in r and
             r["n"] == r["n"] else "–"]
            for r in sig.head(LIST).to_dict("records")
        ]),
    ]) if len(sig) else html.P("No descriptor is over-represented here.", className="pg-muted")
    related = detail.related
    rel = html.Ul([
        html.Li([dcc.Link(str(r["label"]), href=f"/topic/{int(r['topic'])}",
                          id=f"topic-related-{int(r['topic'])}"),
                 c.meta_line(f"similarity {r['similarity']:.2f}",
                             f"{int(r['citations']):,} citations between them")])
        for r in related.head(8).to_dict("records")
    ], className="pg-list") if len(related) else html.P("None.", className="pg-muted")
    mt = detail.mesh_trends
    mesh_trends = c.table(["descriptor", "trend", "effect", "articles"], [
        [str(r["name"] or r["ui"]), trend_badge(r["trend"], r["q"], r["trend_method"]),
         f"{r['effect']:+.3g}" if r["effect"] is not None and r["effect"] == r["effect"]
         else "–", f"{int(r['n']):,}" if r["n"] == r["n"] else "–"]
        for r in mt.to_dict("records")
    ]) if len(mt) else html.P("Too few articles for a trend inside this topic.",
                              className="pg-muted")
    subtitle = c.meta_line(
        f"topic {detail.topic} of run {run}",
        f"{detail.size:,} articles",
        trend_badge(detail.trend, detail.q, detail.trend_method, detail.effect),
        f"test: {detail.trend_method or '–'}",
        ", ".join(detail.terms[:8]) if detail.terms else None,
    )
    left = html.Div([html.H4("Share per year"), trend, html.H4("MeSH signature"), signature,
                     html.H4("MeSH descriptors trending inside this topic"), mesh_trends],
                    className="pg-col pg-col-main")
    right = html.Div([
        html.H4("Representative articles"),
        html.P("Nearest the topic's centre.", className="pg-muted"),
        _articles(detail.representatives, "None."),
        html.H4("Most cited in the topic"),
        _articles(detail.most_cited, "None.", extra="in_degree"),
        html.H4("Related topics"), rel,
    ], className="pg-col pg-col-side", id="topic-lists")
    return c.page(detail.label, html.Div([left, right], className="pg-cols"),
                  subtitle=subtitle, page_id="topic-page")
