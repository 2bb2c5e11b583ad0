"""The app over HTTP (Flask test client, no browser): the router callback renders each
page from its URL, and a graph that lacks something yields a page naming the command to
run. Real Neo4j; no browser needed, so these run fast."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from pubgraph.core.settings import Settings
from pubgraph.dashboard.app import create_app, router_body
from pubgraph.graph.db import GraphDB, connect
from pubgraph.graph.server import free_port
from tests.embeddings.conftest import add_articles


def render(app: Any, path: str) -> str:
    """POST the page router callback as the browser does; all text of the rendered page."""
    body = router_body(path)
    client = app.server.test_client()
    client.get("/")  # the first request registers the router
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:500]
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            props = node.get("props", node)
            for key in ("children", "title"):
                if key in props:
                    walk(props[key])
            if "type" not in node:
                for v in node.values():
                    walk(v)

    walk(json.loads(r.data)["response"]["_pages_content"]["children"])
    return " ".join(texts)


def test_stopped_neo4j() -> None:
    dead = Settings(neo4j_uri=f"bolt://127.0.0.1:{free_port()}", neo4j_password="x")
    app = create_app(lambda: connect(dead))
    assert app.server.test_client().get("/healthz").data == b"ok"
    for path in ("/", "/search?q=amyloid", "/article/123", "/topic/1", "/map", "/runs"):
        text = render(app, path)
        assert "Neo4j is not reachable" in text and "pubgraph neo4j start" in text, text
        assert "Traceback" not in text


@pytest.mark.neo4j
def test_empty_graph_then_no_vectors_then_no_analysis(
    graph_db: GraphDB, neo4j_settings: Settings
) -> None:
    from pubgraph.embeddings.search import clear_status_cache

    clear_status_cache()
    app = create_app(lambda: connect(neo4j_settings))
    for path in ("/", "/search?q=x", "/map", "/article/1"):
        text = render(app, path)
        assert "The graph is empty" in text and "pubgraph ingest sample" in text, (path, text)

    add_articles(graph_db, [{"pmid": "1", "title": "Insulin and glucose", "year": 2001}])
    app = create_app(lambda: connect(neo4j_settings))  # fresh caches
    text = render(app, "/search?q=insulin")
    assert "No vectors" in text and "pubgraph embed" in text
    article = render(app, "/article/1")
    assert "Insulin and glucose" in article and "pubgraph embed" in article
    for path in ("/", "/map", "/topic/0"):
        text = render(app, path)
        assert "pubgraph analyze run" in text, (path, text)
    # user text stays a parameter: a Cypher-looking query is just an unknown PMID / topic
    text = render(app, "/article/1%27%20DETACH%20DELETE%20n")
    assert "No such article" in text
    assert render(app, "/article/1")  # still there
    assert "Page not found" in render(app, "/nowhere")


def test_cli_warns_on_all_interfaces() -> None:
    from pubgraph.cli import app

    # --debug with a public host is refused after the warning: nothing is served
    out = CliRunner().invoke(app, ["dashboard", "--host", "0.0.0.0", "--debug"])
    assert out.exit_code != 0
    assert "warning" in out.output and "0.0.0.0" in out.output
    help_text = CliRunner().invoke(app, ["dashboard", "--help"]).output
    assert "127.0.0.1" in help_text
