"""Imports go one way: cli -> dashboard -> {ingest, pairing, train, embeddings, analysis}
-> graph -> core. The middle packages never import each other, not even inside a function.

Read from the source with ``ast`` (every ``import`` statement, at any depth), so a lazy
import inside a function counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MIDDLE = ("ingest", "pairing", "train", "embeddings", "analysis")
# layer -> the pubgraph packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "graph": {"core"},
    **{m: {"graph", "core"} for m in MIDDLE},
    "dashboard": {*MIDDLE, "graph", "core"},
    "cli": {"dashboard", *MIDDLE, "graph", "core"},
}
CLI_MODULES = {"cli", "__main__", "demo"}


def layer_of(path: Path) -> str:
    rel = path.relative_to(REPO).parts
    if rel[0] == "pubgraph":
        if rel[1] == "core":
            return "core"
        stem = Path(rel[1]).stem
        return "cli" if stem in CLI_MODULES or rel[1] == "__init__.py" else f"pubgraph/{stem}"
    return rel[0]


def imported_layers(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "pubgraph":
                names = [f"pubgraph.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] in ("graph", *MIDDLE, "dashboard"):
                out.add((f"top-level {parts[0]}", node.lineno))
            elif parts[0] == "pubgraph" and len(parts) > 1:
                out.add((parts[1] if parts[1] != "__main__" else "cli", node.lineno))
    return out


def sources() -> list[Path]:
    folders = ["graph", *MIDDLE, "dashboard", "pubgraph/core"]
    files = [p for f in folders for p in (REPO / f).rglob("*.py")]
    files += [p for p in (REPO / "pubgraph").glob("*.py")]
    return sorted(files)


def test_every_package_is_scanned() -> None:
    layers = {layer_of(p) for p in sources()}
    assert {"core", "graph", "ingest", "pairing", "train", "embeddings", "analysis",
            "dashboard", "cli"} <= layers


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_imports_go_one_way(path: Path) -> None:
    layer = layer_of(path)
    if layer.startswith("pubgraph/"):
        layer = "cli"  # pubgraph/<module>.py beside the CLI
    allowed = ALLOWED[layer] | {layer}
    bad = sorted(
        (name, line) for name, line in imported_layers(path)
        if name.startswith("top-level") or (name in ALLOWED and name not in allowed)
    )
    assert not bad, f"{path.relative_to(REPO)} ({layer}) imports {bad}; allowed: {allowed}"


def test_the_checker_catches_a_sideways_import(tmp_path: Path) -> None:
    """The check can fail: a function-level import of another middle package is found."""
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from pubgraph.train import evaluate\n    import graph.db\n")
    assert imported_layers(src) == {("train", 2), ("top-level graph", 3)}
