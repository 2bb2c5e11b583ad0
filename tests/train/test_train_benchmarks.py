"""Benchmark readers, on the real shared files and on small broken ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pubgraph.core.errors import InputError
from pubgraph.train.benchmarks import read_biosses, read_pubmedqa


def test_biosses_has_100_pairs(shared_data: Path) -> None:
    pairs = read_biosses(shared_data / "benchmarks" / "biosses")
    assert len(pairs) == 100
    assert min(pairs.scores) >= 0.0 and max(pairs.scores) <= 4.0
    assert all(s1 and s2 for s1, s2 in zip(pairs.sentences1, pairs.sentences2, strict=True))


def test_biosses_missing_column(tmp_path: Path) -> None:
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        (tmp_path / name).write_text("sentence1\tsentence2\tgold\nA\tB\t1\n")
    with pytest.raises(InputError, match=r"train\.tsv: missing column\(s\) score"):
        read_biosses(tmp_path)


def test_biosses_bad_score(tmp_path: Path) -> None:
    (tmp_path / "train.tsv").write_text("sentence1\tsentence2\tscore\nA\tB\thigh\n")
    with pytest.raises(InputError, match="record row 1, field score"):
        read_biosses(tmp_path, files=("train.tsv",))


def test_pubmedqa_real(shared_data: Path) -> None:
    data = read_pubmedqa(shared_data / "benchmarks" / "pubmedqa" / "ori_pqal.json")
    assert len(data.queries) == len(data.corpus) == 1000
    key = next(iter(data.queries))
    assert data.relevant[key] == {key}
    assert data.queries[key].endswith("?")


def test_pubmedqa_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"1": {"QUESTION": "q?"}}))
    with pytest.raises(InputError, match="record 1: record lacks"):
        read_pubmedqa(path)
