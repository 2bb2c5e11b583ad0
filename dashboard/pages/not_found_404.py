"""Unknown paths."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from pubgraph.dashboard import components as c

dash.register_page(__name__, path="/404", title="Not found · pubgraph")  # type: ignore[no-untyped-call]


def layout(**_: Any) -> Any:
    return c.page(
        "Page not found",
        html.P(["Try ", dcc.Link("Trends", href="/"), ", ", dcc.Link("Search", href="/search"),
                " or ", dcc.Link("Runs", href="/runs"), "."]),
        page_id="notfound-page",
    )
