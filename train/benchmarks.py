"""Readers for the public benchmarks and for labelled pair CSVs.

* BIOSSES (``benchmarks/biosses/{train,dev,test}.tsv``): 100 sentence pairs with a gold
  similarity 0-4; columns include ``sentence1``, ``sentence2``, ``score``. pubgraph uses
  all 100 pairs (the model is never trained on BIOSSES, so no split is held back).
* PubMedQA (``benchmarks/pubmedqa/ori_pqal.json``): 1,000 labelled questions, each with
  a ``LONG_ANSWER``; the task is question -> its own long answer among all 1,000.
* Any ``text1,text2,label`` CSV, e.g. ``seed_pairs/val_small.csv``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from pubgraph.core.errors import InputError

BIOSSES_FILES = ("train.tsv", "dev.tsv", "test.tsv")
BIOSSES_COLUMNS = ("sentence1", "sentence2", "score")


@dataclass(frozen=True)
class ScoredPairs:
    """Sentence pairs with a gold similarity score."""

    sentences1: list[str]
    sentences2: list[str]
    scores: list[float]

    def __len__(self) -> int:
        return len(self.scores)


def read_biosses(folder: str | Path, files: tuple[str, ...] = BIOSSES_FILES) -> ScoredPairs:
    """All BIOSSES pairs of ``files`` (default: train, dev and test: 100 pairs)."""
    s1: list[str] = []
    s2: list[str] = []
    scores: list[float] = []
    for name in files:
        path = Path(folder) / name
        if not path.is_file():
            raise InputError("BIOSSES file not found", file=str(path))
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            missing = [c for c in BIOSSES_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)}", file=str(path))
            for i, row in enumerate(reader, start=1):
                try:
                    score = float(row["score"])
                except (TypeError, ValueError):
                    raise InputError(
                        f"score is not a number: {row['score']!r}",
                        file=str(path),
                        record=f"row {i}",
                        field="score",
                    ) from None
                s1.append(row["sentence1"])
                s2.append(row["sentence2"])
                scores.append(score)
    return ScoredPairs(s1, s2, scores)


@dataclass(frozen=True)
class RetrievalSet:
    """Queries, a corpus, and which corpus ids answer each query."""

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant: dict[str, set[str]]


def read_pubmedqa(path: str | Path) -> RetrievalSet:
    """PubMedQA labelled set as retrieval: each question's relevant document is its own
    long answer, among the long answers of all questions."""
    p = Path(path)
    if not p.is_file():
        raise InputError("PubMedQA file not found", file=str(p))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", file=str(p)) from None
    if not isinstance(data, dict):
        raise InputError("expected an object of id -> record", file=str(p))
    queries: dict[str, str] = {}
    corpus: dict[str, str] = {}
    for key, record in data.items():
        if not isinstance(record, dict) or "QUESTION" not in record or "LONG_ANSWER" not in record:
            raise InputError("record lacks QUESTION or LONG_ANSWER", file=str(p), record=str(key))
        queries[str(key)] = str(record["QUESTION"])
        corpus[str(key)] = str(record["LONG_ANSWER"])
    return RetrievalSet(queries, corpus, {k: {k} for k in queries})
