"""Search: free text, hybrid by default (the article vectors fused with the full-text index;
``mode=vector`` or ``mode=fulltext`` for one of them), with year, MeSH (narrower terms
included) and journal filters; results with score, year, journal and MeSH chips; "expand by
citations" adds the articles one citation away from the results.

The state is the query string (``/search?q=...&from=2010&to=2020&mesh=D000544&journal=...
&k=20&expand=1&mode=hybrid``): the form only rewrites the URL, the page is rendered from it.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import current

#: The search modes (``embeddings.search.SEARCH_MODES``) and what a hit's score is in each.
MODE_NAMES = {
    "hybrid": "hybrid: cosine and full-text (BM25) scores, min-max normalised and fused",
    "vector": "cosine similarity",
    "fulltext": "full-text relevance (BM25)",
}

dash.register_page(__name__, path="/search", title="Search · pubgraph", name="Search", order=1)  # type: ignore[no-untyped-call]

K_CHOICES = (10, 20, 50)
CHIPS_PER_HIT = 6
EXPAND_LIMIT = 15


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _form(q: str, year_min: int | None, year_max: int | None, mesh: str, journal: str,
          k: int, expand: bool) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    dcc.Input(id="search-query", type="text", value=q, debounce=False,
                              placeholder="e.g. amyloid beta clearance by microglia",
                              className="pg-input pg-input-wide", autoFocus=True),
                    html.Button("Search", id="search-submit", className="pg-button",
                                n_clicks=0),
                ],
                className="pg-row",
            ),
            html.Div(
                [
                    html.Label(["from", dcc.Input(id="search-year-min", type="number",
                                                  value=year_min, className="pg-input pg-year",
                                                  style={"width": "90px"})]),
                    html.Label(["to", dcc.Input(id="search-year-max", type="number",
                                                value=year_max, className="pg-input pg-year",
                                                style={"width": "90px"})]),
                    html.Label(["MeSH", dcc.Input(id="search-mesh", type="text", value=mesh,
                                                  placeholder="UI or name (narrower included)",
                                                  className="pg-input", style={"width": "240px"})]),
                    html.Label(["journal", dcc.Input(id="search-journal", type="text",
                                                     value=journal,
                                                     placeholder="title, ISO abbr. or ISSN",
                                                     className="pg-input",
                                                     style={"width": "220px"})]),
                    html.Label(["results", dcc.Dropdown(
                        id="search-k", options=[{"label": str(n), "value": n} for n in K_CHOICES],
                        value=k, clearable=False, searchable=False, className="pg-k")]),
                    dcc.Checklist(id="search-expand",
                                  options=[{"label": " expand by citations", "value": "1"}],
                                  value=["1"] if expand else [], className="pg-check"),
                ],
                className="pg-row pg-filters",
            ),
        ],
        className="pg-card pg-form",
    )


@c.guard
def layout(q: str = "", **params: Any) -> Any:
    """The form, and the results when the URL carries a query."""
    ctx = current()
    q = (q or "").strip()
    year_min, year_max = _int(params.get("from")), _int(params.get("to"))
    mesh = (params.get("mesh") or "").strip()
    journal = (params.get("journal") or "").strip()
    k = _int(params.get("k")) or K_CHOICES[0]
    k = k if k in K_CHOICES else K_CHOICES[0]
    expand = params.get("expand") in ("1", "true", "yes")
    mode = params.get("mode") or "hybrid"
    mode = mode if mode in MODE_NAMES else "hybrid"
    body: list[Any] = [_form(q, year_min, year_max, mesh, journal, k, expand),
                       dcc.Location(id="search-nav", refresh="callback-nav")]
    data.require_vectors(ctx)
    if not q:
        body.append(html.P("Type a question or a topic; results are ranked by hybrid "
                           "search: the cosine between its vector and each article's, fused "
                           "with full-text (BM25) relevance over titles and abstracts "
                           "(add mode=vector or mode=fulltext to the URL for one of them).",
                           className="pg-muted"))
        return c.page("Search", *body, page_id="search-page")
    body.append(_results(q, year_min, year_max, mesh, journal, k, expand, mode))
    return c.page("Search", *body, page_id="search-page")


@c.guard
def _results(q: str, year_min: int | None, year_max: int | None, mesh: str, journal: str,
             k: int, expand: bool, mode: str = "hybrid") -> Any:
    from pubgraph.embeddings.search import Filters, fulltext_ready, search_hybrid
    from pubgraph.graph.articles import (
        articles_brief,
        citation_neighbours_of_set,
        mesh_of_articles,
    )

    ctx = current()
    db = ctx.db()
    filters = Filters(min_year=year_min, max_year=year_max, mesh=mesh or None,
                      journal=journal or None)
    fallback = None
    if mode != "vector" and not fulltext_ready(db):
        # A graph loaded before the full-text index existed: vectors still answer.
        mode, fallback = "vector", ("vector search only: the full-text index is missing "
                                    "(`pubgraph graph init` creates it)")
    hits = search_hybrid(db, ctx.embedder() if mode != "fulltext" else None, q, k=k,
                         filters=filters, mode=mode)
    if not hits:
        return c.notice("No results", "No article passes these filters; widen the years or "
                        "drop the MeSH / journal filter.")
    tags = mesh_of_articles(db, [h.pmid for h in hits])
    # The hit carries the journal's id; the reader wants its title.
    brief = articles_brief(db, [h.pmid for h in hits])
    items = []
    for rank, h in enumerate(hits, 1):
        chips = [
            c.chip(t.name or t.ui, major=t.major, title=f"{t.ui}{' (major)' if t.major else ''}",
                   link=c.href("/search", q=q, mesh=t.ui, **{"from": year_min, "to": year_max}))
            for t in tags.get(h.pmid, [])[:CHIPS_PER_HIT]
        ]
        items.append(html.Li(
            [
                html.Div([html.Span(f"{rank}", className="pg-rank"),
                          c.article_link(h.pmid, h.title),
                          c.badge(f"{h.score:.3f}", "score", title=MODE_NAMES[mode])],
                         className="pg-hit-head"),
                c.meta_line(str(h.year) if h.year else None,
                            (brief[h.pmid].journal if h.pmid in brief else None) or h.journal,
                            f"PMID {h.pmid}"),
                html.Div(chips, className="pg-chips"),
            ],
            className="pg-hit",
        ))
    out: list[Any] = [
        html.Div(f"{len(hits)} results for “{q}”", className="pg-count", id="search-count",
                 title=MODE_NAMES[mode]),
        *([html.P(fallback, className="pg-muted")] if fallback else []),
        html.Ol(items, className="pg-hits", id="search-results"),
    ]
    if expand:
        linked = citation_neighbours_of_set(db, [h.pmid for h in hits], limit=EXPAND_LIMIT)
        out.append(html.H4("Citation neighbours of these results"))
        out.append(c.ref_list(
            linked,
            "None of these results cites or is cited by another article in the graph.",
            extra=lambda a: f"linked to {a.links} result{'s' if a.links != 1 else ''}",
        ))
    return html.Div(out, className="pg-card")


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("search-nav", "href"),
        Input("search-submit", "n_clicks"),
        Input("search-query", "n_submit"),
        State("search-query", "value"),
        State("search-year-min", "value"),
        State("search-year-max", "value"),
        State("search-mesh", "value"),
        State("search-journal", "value"),
        State("search-k", "value"),
        State("search-expand", "value"),
        prevent_initial_call=True,
    )
    def submit(_clicks: int | None, _submits: int | None, q: str | None,
               year_min: int | None, year_max: int | None, mesh: str | None,
               journal: str | None, k: int | None, expand: list[str] | None) -> str:
        """The form's state becomes the URL; the page renders from it."""
        return c.href(
            "/search",
            q=(q or "").strip(),
            mesh=(mesh or "").strip(),
            journal=(journal or "").strip(),
            k=k if k and k != K_CHOICES[0] else None,
            expand="1" if expand else None,
            **{"from": year_min, "to": year_max},
        )
