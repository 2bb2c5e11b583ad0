"""Article ``/article/<pmid>``: the record, its MeSH, citations in and out, similar articles,
"similar but not cited", and an interactive neighbourhood (dash-cytoscape: citation and
similarity edges, nodes coloured by topic; a click on a node opens that article)."""

from __future__ import annotations

from typing import Any

import dash
import dash_cytoscape as cyto
from dash import Input, Output, dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import current

dash.register_page(
    __name__,
    path_template="/article/<pmid>",
    title="Article · pubgraph",
    name="Article",
)  # type: ignore[no-untyped-call]

LIST_LIMIT = 25
GRAPH_CITES = 12  # per direction, in the drawing
GRAPH_SIMILAR = 8
SIMILAR_K = 10

# Node colours when no analysis run gives topics: by relation to the article.
RELATION_COLOURS = {
    "self": "#111827", "cites": "#2563eb", "cited_by": "#059669", "similar": "#d97706",
}

STYLESHEET = [
    {"selector": "node", "style": {
        "background-color": "data(colour)", "label": "data(label)", "font-size": "9px",
        "color": "#374151", "width": 18, "height": 18, "text-valign": "bottom",
        "text-margin-y": 3, "border-width": 1, "border-color": "#ffffff"}},
    {"selector": "node.self", "style": {
        "width": 34, "height": 34, "border-width": 4, "border-color": "#111827",
        "font-weight": "bold", "font-size": "11px"}},
    {"selector": "edge", "style": {"width": 1.5, "curve-style": "bezier"}},
    {"selector": "edge.cites", "style": {
        "line-color": "#9ca3af", "target-arrow-color": "#9ca3af",
        "target-arrow-shape": "triangle", "arrow-scale": 0.8}},
    {"selector": "edge.similar", "style": {
        "line-color": "#f59e0b", "line-style": "dashed", "width": "data(width)",
        "label": "data(label)", "font-size": "8px", "color": "#b45309"}},
]


def _short(title: str | None, pmid: str) -> str:
    if not title:
        return pmid
    return title if len(title) <= 24 else title[:22].rstrip() + "…"


def neighbourhood(ctx: Any, pmid: str, refs: list[Any], citing: list[Any], similar: list[Any],
                  topics: dict[str, tuple[int, str, str]]) -> list[dict[str, Any]]:
    """Cytoscape elements: the article, its citation neighbours and vector neighbours;
    CITES edges among all of them and one similarity edge per vector neighbour."""
    from pubgraph.graph.articles import cites_among

    nodes: dict[str, dict[str, Any]] = {}

    def add(pid: str, title: str | None, relation: str) -> None:
        if pid in nodes:
            return
        topic = topics.get(pid)
        colour = topic[2] if topic else RELATION_COLOURS[relation]
        nodes[pid] = {"data": {
            "id": pid, "label": _short(title, pid), "title": title or pid, "relation": relation,
            "topic": topic[1] if topic else "", "colour": colour},
            "classes": relation}

    detail_title = next((h.title for h in similar if h.pmid == pmid), None)
    add(pmid, detail_title, "self")
    for r in refs[:GRAPH_CITES]:
        if not r.stub:
            add(r.pmid, r.title, "cites")
    for r in citing[:GRAPH_CITES]:
        if not r.stub:
            add(r.pmid, r.title, "cited_by")
    for h in similar[:GRAPH_SIMILAR]:
        add(h.pmid, h.title, "similar")
    edges = [{"data": {"id": f"c-{s}-{t}", "source": s, "target": t}, "classes": "cites"}
             for s, t in cites_among(ctx.db(), list(nodes))]
    for h in similar[:GRAPH_SIMILAR]:
        edges.append({"data": {"id": f"s-{pmid}-{h.pmid}", "source": pmid, "target": h.pmid,
                               "label": f"{h.score:.2f}", "width": 1 + 3 * max(h.score, 0)},
                      "classes": "similar"})
    return [*nodes.values(), *edges]


def _with_journal_titles(db: Any, hits: list[Any]) -> list[Any]:
    """Search hits carry the journal's id; readers want its title."""
    from dataclasses import replace

    from pubgraph.graph.articles import articles_brief

    brief = articles_brief(db, [h.pmid for h in hits])
    return [replace(h, journal=brief[h.pmid].journal or h.journal) if h.pmid in brief else h
            for h in hits]


@c.guard
def layout(pmid: str = "", **_: Any) -> Any:
    from pubgraph.graph.articles import article_detail, cited_by, references

    ctx = current()
    db = data.require_articles(ctx)
    pmid = str(pmid).strip()
    detail = article_detail(db, pmid) if pmid.isdigit() else None
    if detail is None:
        return c.page("Article not found", c.notice(
            "No such article", f"There is no article with PMID {pmid!r} in the graph.",
            "pubgraph search text \"...\"   (or use the Search page)"),
            page_id="article-page")
    # The four reads are independent: run them at once (the driver is thread-safe) so the
    # page waits for the slowest, not for their sum.
    pool = data.pool()
    f_refs = pool.submit(references, db, pmid, limit=LIST_LIMIT)
    f_citing = pool.submit(cited_by, db, pmid, limit=LIST_LIMIT)
    similar: list[Any] = []
    not_cited: list[Any] = []
    vectors_note = None
    if detail.has_vector:
        from pubgraph.embeddings.search import recommend
        from pubgraph.embeddings.search import similar as similar_fn

        f_sim = pool.submit(lambda: _with_journal_titles(db, similar_fn(db, pmid, k=SIMILAR_K)))
        f_rec = pool.submit(lambda: _with_journal_titles(db, recommend(db, pmid, k=SIMILAR_K)))
        similar, not_cited = f_sim.result(), f_rec.result()
    else:
        vectors_note = c.notice(
            "No vector for this article",
            "Similar articles need the article's vector." if data.has_vectors(ctx) else
            "The graph has no vectors yet.", data.EMBED_COMMAND)
    refs, citing = f_refs.result(), f_citing.result()
    topics = data.topics_of(ctx, [pmid, *(r.pmid for r in refs[:GRAPH_CITES]),
                                  *(r.pmid for r in citing[:GRAPH_CITES]),
                                  *(h.pmid for h in similar[:GRAPH_SIMILAR])])
    elements = neighbourhood(ctx, pmid, refs, citing, similar, topics)
    for el in elements:  # the article's own label: its title
        if el["data"].get("id") == pmid:
            el["data"]["label"] = _short(detail.title, pmid)
            el["data"]["title"] = detail.title or pmid
    own_topic = topics.get(pmid)

    mesh_chips = [
        c.chip(m.name or m.ui, major=m.major, title=m.ui,
               link=c.href("/search", q=m.name or m.ui, mesh=m.ui))
        for m in detail.mesh
    ]
    head_meta = c.meta_line(
        str(detail.year) if detail.year else None,
        detail.journal,
        f"PMID {detail.pmid}",
        f"DOI {detail.doi}" if detail.doi else None,
        dcc.Link(f"topic: {own_topic[1]}", href=f"/topic/{own_topic[0]}",
                 className="pg-topic-link", id="article-topic") if own_topic else None,
    )
    legend = html.Div(
        [html.Span("● cites", style={"color": RELATION_COLOURS["cites"]}),
         html.Span("● cited by", style={"color": RELATION_COLOURS["cited_by"]}),
         html.Span("● similar", style={"color": RELATION_COLOURS["similar"]}),
         html.Span("→ citation   ┅ similarity (cosine)")]
        if not topics else
        [html.Span("colour = topic of the analysis run; → citation   ┅ similarity (cosine)")],
        className="pg-legend")
    left = html.Div(
        [
            html.H4(f"Neighbourhood ({len([e for e in elements if 'source' not in e['data']])}"
                    " articles)"),
            cyto.Cytoscape(
                id="article-graph",
                elements=elements,
                stylesheet=STYLESHEET,
                layout={"name": "cose", "animate": False, "randomize": False,
                        "nodeRepulsion": 6000, "idealEdgeLength": 70},
                style={"width": "100%", "height": "440px"},
                className="pg-cyto",
                minZoom=0.3,
                maxZoom=3,
                wheelSensitivity=1,
            ),
            legend,
            html.P("Click a node to open that article.", className="pg-muted"),
            html.H4("Abstract"),
            html.Div(detail.abstract or "No abstract.", className="pg-abstract",
                     id="article-abstract"),
            html.H4("MeSH"),
            html.Div(mesh_chips or html.Span("none", className="pg-muted"),
                     className="pg-chips", id="article-mesh"),
            dcc.Location(id="article-nav", refresh="callback-nav"),
        ],
        className="pg-col pg-col-main",
    )
    right = html.Div(
        [
            html.H4(f"Cites ({detail.references})"),
            c.ref_list(refs, "Cites nothing in the graph.",
                       extra=lambda r: "not in the corpus" if r.stub else None),
            html.H4(f"Cited by ({detail.cited_by})"),
            c.ref_list(citing, "Not cited in the graph."),
            *([vectors_note] if vectors_note else [
                html.H4("Similar articles"),
                c.ref_list(similar, "None.", extra=lambda h: f"cosine {h.score:.3f}"),
                html.H4("Similar but not cited"),
                html.P("Near in vector space, no citation either way.", className="pg-muted"),
                c.ref_list(not_cited, "None.", extra=lambda h: f"cosine {h.score:.3f}"),
            ]),
        ],
        className="pg-col pg-col-side",
        id="article-lists",
    )
    return c.page(detail.title or f"PMID {pmid}", html.Div([left, right], className="pg-cols"),
                  subtitle=head_meta, page_id="article-page")


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("article-nav", "href"),
        Input("article-graph", "tapNodeData"),
        prevent_initial_call=True,
    )
    def open_node(node: dict[str, Any] | None) -> str:
        if not node or not str(node.get("id", "")).isdigit():
            raise dash.exceptions.PreventUpdate
        return f"/article/{node['id']}"
