"""The app factory: a multi-page Dash app (one page per file under ``pages/``).

``create_app(db_factory, ...)`` builds the app without touching Neo4j (the first request
connects), so a test or the CLI can build it while Neo4j is down and the pages say so.

Pages register with ``dash.register_page`` when Dash imports the pages folder; their
callbacks are attached to this app by each page's ``register_callbacks(app)`` (not with
the global ``dash.callback``), so several apps can be built in one process (tests).
All state lives in the URL: a page is a pure function of its path and query string, and
a form only rewrites the URL (shareable links; user text only ever becomes a query
parameter of the package functions, never Cypher).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dash
from dash import dcc, html

from pubgraph.dashboard.context import CONTEXT_KEY, DashboardContext

if TYPE_CHECKING:
    from pubgraph.embeddings.embed import Embedder
    from pubgraph.graph.db import GraphDB

PAGES = ("trends", "topic", "search", "article", "map", "runs", "not_found_404")
NAV = (("Trends", "/"), ("Search", "/search"), ("Map", "/map"), ("Runs", "/runs"))


def _shell() -> html.Div:
    nav = [dcc.Link(label, href=path, className="pg-nav-link", id=f"nav-{label.lower()}")
           for label, path in NAV]
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link([html.Span("pub", className="pg-logo-a"),
                              html.Span("graph", className="pg-logo-b")],
                             href="/", className="pg-logo"),
                    html.Nav(nav, className="pg-nav"),
                    html.Span("PubMed × Neo4j explorer", className="pg-tagline"),
                ],
                className="pg-header",
            ),
            html.Main(dash.page_container, className="pg-main"),
        ]
    )


def create_app(
    db_factory: Callable[[], GraphDB],
    *,
    embedder_factory: Callable[[GraphDB], Embedder] | None = None,
    analysis_run: str | None = None,
    runs_dirs: Sequence[str | Path] = (),
    map_points_max: int = 6000,
    title: str = "pubgraph",
) -> dash.Dash:
    """The dashboard app; ``db_factory()`` returns a connected GraphDB (called lazily).

    ``analysis_run`` pins the run the trend, topic and map pages show (default: the
    latest); ``runs_dirs`` are scanned for trained models (``pubgraph_train.json``).
    """
    app = dash.Dash(
        "pubgraph.dashboard",
        use_pages=True,
        # Relative: Dash resolves them against the package and names the page modules
        # ``pubgraph.dashboard.pages.<file>``, the names they import under.
        pages_folder="pages",
        assets_folder="assets",
        title=title,
        update_title=None,  # type: ignore[arg-type]  # None (documented): no "Updating..."
        # Pages are built per request (they read Neo4j); Dash must not call every page
        # layout up front to validate callbacks.
        suppress_callback_exceptions=True,
    )
    ctx = DashboardContext(
        db_factory=db_factory,
        embedder_factory=embedder_factory,
        analysis_run=analysis_run,
        runs_dirs=tuple(Path(p) for p in runs_dirs),
        map_points_max=map_points_max,
    )
    app.server.config[CONTEXT_KEY] = ctx
    app.layout = _shell()
    for name in PAGES:
        module = importlib.import_module(f"pubgraph.dashboard.pages.{name}")
        register = getattr(module, "register_callbacks", None)
        if register is not None:
            register(app)

    @app.server.route("/healthz")  # type: ignore[untyped-decorator]
    def healthz() -> tuple[str, int]:
        """Liveness for the compose healthcheck: the web server answers (Neo4j may not)."""
        return "ok", 200

    return app


def context_of(app: dash.Dash) -> DashboardContext:
    ctx: DashboardContext = app.server.config[CONTEXT_KEY]
    return ctx


#: The output of Dash's page router (``use_pages``): the page content and its store.
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."


def router_body(path: str) -> dict[str, Any]:
    """The JSON body the browser POSTs to ``/_dash-update-component`` when it opens ``path``
    (``/search?q=...``): how tests, benchmarks and load tests render a page over HTTP."""
    pathname, _, search = path.partition("?")
    return {
        "output": ROUTER_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search",
                    "value": f"?{search}" if search else ""}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
