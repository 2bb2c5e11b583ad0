"""The real base model (all-MiniLM-L6-v2, bundled offline) on the real BIOSSES pairs."""

from __future__ import annotations

from pathlib import Path

from pubgraph.train import evaluate
from pubgraph.train.models import load_model


def test_minilm_on_biosses(shared_data: Path) -> None:
    model = load_model("sentence-transformers/all-MiniLM-L6-v2", device="cpu")
    task = evaluate.biosses_task(shared_data / "benchmarks" / "biosses")
    out = task.run(model)
    assert out["n"] == 100
    # all-MiniLM-L6-v2's BIOSSES Spearman is about 0.81 (MTEB); a broken reader, pairing
    # or pooling lands far from it.
    assert 0.75 < out["spearman"] < 0.88
    assert 0.75 < out["pearson"] < 0.92
