"""Shared pieces of the pages: notices that name a command, chips, article rows, the guard
that turns every failure into words (never a traceback in the browser)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from dash import dcc, html

from pubgraph.core.errors import Neo4jUnavailable, PubgraphError
from pubgraph.dashboard.context import NeedsCommand, current

log = logging.getLogger("pubgraph.dashboard")
F = TypeVar("F", bound=Callable[..., Any])

NEO4J_HELP = (
    "Start the local server with `pubgraph neo4j start`, or point NEO4J_URI / NEO4J_USER / "
    "NEO4J_PASSWORD at a running Neo4j, then reload this page."
)


def notice(title: str, message: str, command: str | None = None, kind: str = "info") -> html.Div:
    """A boxed message; ``command`` is shown as the thing to run."""
    children: list[Any] = [html.H3(title), html.P(message)]
    if command:
        children.append(html.P(["Run: ", html.Code(command, className="pg-command")]))
    return html.Div(children, className=f"pg-notice pg-notice-{kind}")


def neo4j_down(message: str) -> html.Div:
    return html.Div(
        [
            html.H3("Neo4j is not reachable"),
            html.P(message),
            html.P(["To fix it: ", html.Code("pubgraph neo4j start", className="pg-command")]),
            html.P(NEO4J_HELP, className="pg-muted"),
        ],
        className="pg-notice pg-notice-error",
        id="pg-neo4j-down",
    )


def _is_connection_error(exc: BaseException) -> bool:
    import neo4j.exceptions as nx

    return isinstance(exc, Neo4jUnavailable | nx.ServiceUnavailable | nx.SessionExpired)


def explain_failure(exc: BaseException) -> html.Div:
    """The words for a failure: what happened and which command fixes it."""
    if _is_connection_error(exc):
        with contextlib.suppress(RuntimeError):  # outside a request: nothing to forget
            current().forget_db()
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return neo4j_down(msg)
    if isinstance(exc, NeedsCommand):
        return notice(exc.title, str(exc), exc.command)
    if isinstance(exc, PubgraphError):
        return notice("Cannot show this", str(exc).splitlines()[0], kind="warn")
    log.exception("dashboard callback failed")
    first = str(exc).splitlines()[0] if str(exc) else ""
    return notice(
        "Something went wrong",
        f"{type(exc).__name__}: {first[:300]} (the details are in the dashboard's log)",
        kind="error",
    )


def guard(fn: F) -> F:
    """Run a layout function or a single-output callback; any failure becomes a notice."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            return explain_failure(exc)

    return wrapper  # type: ignore[return-value]


def page(title: str, *children: Any, subtitle: Any = None, page_id: str) -> html.Div:
    head: list[Any] = [html.H2(title, className="pg-title")]
    if subtitle is not None:
        head.append(html.Div(subtitle, className="pg-subtitle"))
    return html.Div([html.Div(head, className="pg-head"), *children], id=page_id,
                    className="pg-page")


def href(path: str, **params: Any) -> str:
    """A dashboard URL with the non-empty ``params`` as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "", [], False)}
    return f"{path}?{urlencode(kept, doseq=True)}" if kept else path


def article_link(pmid: str, title: str | None, className: str = "pg-article-link") -> dcc.Link:
    return dcc.Link(title or f"PMID {pmid} (no title)", href=f"/article/{pmid}",
                    className=className)


def meta_line(*parts: Any) -> html.Div:
    return html.Div([html.Span(p) if isinstance(p, str) else p for p in parts
                     if p not in (None, "")], className="pg-meta")


def chip(text: str, *, link: str | None = None, major: bool = False, title: str | None = None,
         className: str = "") -> Any:
    cls = f"pg-chip {'pg-chip-major' if major else ''} {className}".strip()
    if link:
        return dcc.Link(text, href=link, className=cls, title=title)
    return html.Span(text, className=cls, title=title)


def badge(text: str, kind: str = "plain", title: str | None = None) -> html.Span:
    return html.Span(text, className=f"pg-badge pg-badge-{kind}", title=title)


def ref_list(items: Iterable[Any], empty: str, extra: Callable[[Any], Any] | None = None
             ) -> Any:
    """A list of articles (objects with pmid, title, year, journal)."""
    rows = []
    for it in items:
        bits: list[Any] = [article_link(it.pmid, getattr(it, "title", None))]
        meta = [str(it.year) if getattr(it, "year", None) else None,
                getattr(it, "journal", None)]
        if extra is not None:
            meta.append(extra(it))
        bits.append(meta_line(*[m for m in meta if m]))
        rows.append(html.Li(bits))
    if not rows:
        return html.P(empty, className="pg-muted")
    return html.Ul(rows, className="pg-list")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], className: str = "") -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in columns])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className=f"pg-table {className}".strip(),
    )


def fmt_q(q: float | None) -> str:
    if q is None:
        return "q –"
    return f"q={q:.2g}" if q >= 1e-3 else "q<0.001"
