"""Map: the analysis run's 2-D map of the articles coloured by topic, titles on hover, a
click opens the article; a year filter. State: ``/map?from=2005&to=2015``.

A browser draws tens of thousands of WebGL points, but shipping them takes seconds; past
``map_points_max`` the page shows a seeded random sample and says so.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from pubgraph.dashboard import components as c
from pubgraph.dashboard import data
from pubgraph.dashboard.context import current
from pubgraph.dashboard.helpers import visible_points

dash.register_page(__name__, path="/map", title="Map · pubgraph", name="Map", order=2)  # type: ignore[no-untyped-call]


def _int(v: Any) -> int | None:
    return int(v) if str(v or "").strip().lstrip("-").isdigit() else None


@c.guard
def layout(**params: Any) -> Any:
    ctx = current()
    run = data.run_id(ctx)
    figures = data.analysis_figures()
    points = data.map_points(ctx, run)
    if len(points) == 0:
        return c.page("Map", c.notice("No map in this run", f"Analysis run {run} stored no "
                                      "2-D coordinates.", data.ANALYSIS_COMMAND),
                      page_id="map-page")
    years = points["year"].dropna().astype(int)
    lo, hi = int(years.min()), int(years.max())
    year_min = _int(params.get("from"))
    year_max = _int(params.get("to"))
    y0 = max(lo, year_min) if year_min is not None else lo
    y1 = min(hi, year_max) if year_max is not None else hi
    shown = visible_points(points, y0, y1, ctx.map_points_max)
    in_years = int(((points["year"] >= y0) & (points["year"] <= y1)).sum())
    if len(shown):
        def build() -> Any:
            fig = figures.map_figure(shown)
            fig.update_layout(height=640, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                              title=f"Articles {y0}–{y1}", clickmode="event")
            return fig

        # A run never changes: one figure per (run, year range), built once.
        fig = ctx.cached(("map-figure", run, y0, y1, ctx.map_points_max), build, 600.0)
        graph: Any = dcc.Graph(id="map-graph", figure=fig, config={"displaylogo": False})
    else:
        graph = c.notice("No article in these years", f"Nothing between {y0} and {y1}.")
    marks = {y: str(y) for y in range(lo, hi + 1) if (y - lo) % max(1, (hi - lo) // 10) == 0}
    count = (f"{in_years:,} articles in {y0}–{y1}"
             + (f"; showing a random sample of {len(shown):,}" if len(shown) < in_years else ""))
    return c.page(
        "Map of the articles",
        html.Div([
            dcc.RangeSlider(id="map-years", min=lo, max=hi, step=1, value=[y0, y1],
                            marks=marks, allowCross=False,
                            tooltip={"placement": "bottom", "always_visible": False}),
            html.Div(count, id="map-count", className="pg-count"),
            graph,
            html.P("Hover for titles; click a point to open the article.", className="pg-muted"),
        ], className="pg-card"),
        dcc.Location(id="map-nav", refresh="callback-nav"),
        subtitle=c.meta_line(f"analysis run {run}", f"{len(points):,} mapped articles"),
        page_id="map-page",
    )


def register_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output("map-nav", "href"),
        Input("map-years", "value"),
        Input("map-graph", "clickData"),
        State("map-years", "min"),
        State("map-years", "max"),
        prevent_initial_call=True,
    )
    def navigate(years: list[int] | None, click: dict[str, Any] | None, lo: int | None,
                 hi: int | None) -> str:
        """A new year range rewrites the URL; a click on a point opens its article."""
        if dash.ctx.triggered_id == "map-graph":
            points = (click or {}).get("points") or []
            if not points:
                raise dash.exceptions.PreventUpdate
            pmid = point_pmid(points[0])
            if pmid is None:
                raise dash.exceptions.PreventUpdate
            return f"/article/{pmid}"
        if not years:
            raise dash.exceptions.PreventUpdate
        y0, y1 = int(years[0]), int(years[1])
        return c.href("/map", **{"from": y0 if y0 != lo else None,
                                 "to": y1 if y1 != hi else None})


def point_pmid(point: dict[str, Any]) -> str | None:
    """The article at a clicked point: its customdata when the figure carries pmids, else
    the mapped article at exactly those coordinates."""
    custom = point.get("customdata")
    if isinstance(custom, list | tuple) and custom:
        custom = custom[0]
    if custom is not None and str(custom).isdigit():
        return str(custom)
    ctx = current()
    run = data.run_id(ctx)
    pts = data.map_points(ctx, run)
    hit = pts[(pts["x"] == point.get("x")) & (pts["y"] == point.get("y"))]
    return str(hit["pmid"].iloc[0]) if len(hit) else None
