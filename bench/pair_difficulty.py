"""How hard each kind of pair is for a model, split by split (analysis, not timing).

Reads a pairing run's ``pairs.parquet`` and article vectors (``pubgraph embeddings export``
Parquet: ``pmid, vector``), and prints per split:

* the mix of pair kinds (``hard`` split into its vector part, score < 1 = a cosine, and its
  MeSH-branch / two-hop part, integer scores);
* the mean cosine of each kind;
* ROC-AUC of cosine for all positives against all negatives (the held-out pair task) and
  against each negative kind alone.

The baseline is the same vectors' AUC on the train split: where the splits differ, the
held-out figures do not describe what training sees.

``--probe`` adds an upper-bound probe: a linear map of the frozen vectors (identity at
the start) trained on the train split's labelled pairs with a logistic loss on the cosine,
once with every pair and once without the vector hard negatives; the epoch is picked by
validation AUC and the test AUC of that epoch is reported.

    python bench/pair_difficulty.py --pairs RUN_DIR --vectors vectors.parquet [--probe]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def pair_kinds(pairs: pd.DataFrame) -> pd.Series:
    """``strategy``, with ``hard`` split into ``hard:vector`` (its score is a cosine, < 1)
    and ``hard:mesh/path`` (shared branches or two-hop paths, integer scores >= 1)."""
    kind = pairs["strategy"].astype(str).copy()
    hard = kind == "hard"
    kind[hard & (pairs["score"] < 1.0)] = "hard:vector"
    kind[hard & (pairs["score"] >= 1.0)] = "hard:mesh/path"
    return kind


def difficulty(pairs: pd.DataFrame, vectors: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per split: counts and mean cosine per kind, AUC overall and per negative kind."""
    frame = pairs.assign(pmid_a=pairs["pmid_a"].astype(str), pmid_b=pairs["pmid_b"].astype(str))
    frame = frame[frame["pmid_a"].isin(vectors) & frame["pmid_b"].isin(vectors)].copy()
    frame["kind"] = pair_kinds(frame)
    frame["cosine"] = [float(vectors[a] @ vectors[b])
                       for a, b in zip(frame["pmid_a"], frame["pmid_b"], strict=True)]
    out: dict[str, Any] = {}
    for split, part in frame.groupby("split"):
        pos = part[part["label"] == 1]
        neg = part[part["label"] == 0]
        per_kind = {
            kind: {"pairs": len(g), "share_of_label": round(len(g) / max(
                1, int((part["label"] == g["label"].iloc[0]).sum())), 4),
                   "mean_cosine": round(float(g["cosine"].mean()), 4)}
            for kind, g in part.groupby("kind")
        }
        vs_negative = {}
        for kind, g in neg.groupby("kind"):
            both = pd.concat([pos, g])
            vs_negative[kind] = round(float(roc_auc_score(both["label"], both["cosine"])), 4)
        out[str(split)] = {
            "pairs": len(part),
            "auc": round(float(roc_auc_score(part["label"], part["cosine"])), 4),
            "auc_positives_vs": vs_negative,
            "kinds": per_kind,
        }
    return out


def linear_probe(
    pairs: pd.DataFrame, vectors: dict[str, np.ndarray], *, drop_vector_hard: bool,
    epochs: int = 8, seed: int = 0,
) -> dict[str, float]:
    """Validation-picked test AUC of a linear map of the frozen vectors trained on the
    train split (see the module docstring)."""
    import torch

    torch.manual_seed(seed)
    ids = {p: i for i, p in enumerate(vectors)}
    matrix = torch.tensor(np.stack(list(vectors.values())))
    frame = pairs.assign(a=pairs["pmid_a"].astype(str).map(ids),
                         b=pairs["pmid_b"].astype(str).map(ids)).dropna(subset=["a", "b"])
    frame = frame.assign(kind=pair_kinds(frame))

    def part(split: str) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        rows = frame[frame["split"] == split]
        if split == "train" and drop_vector_hard:
            rows = rows[rows["kind"] != "hard:vector"]
        return (torch.tensor(rows["a"].to_numpy(dtype=np.int64)),
                torch.tensor(rows["b"].to_numpy(dtype=np.int64)),
                rows["label"].to_numpy(dtype=np.float32))

    train, val, test = part("train"), part("validation"), part("test")
    dim = matrix.shape[1]
    linear = torch.nn.Linear(dim, dim)
    torch.nn.init.eye_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    optimiser = torch.optim.AdamW(linear.parameters(), lr=1e-3, weight_decay=0.0)

    def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        fa = torch.nn.functional.normalize(linear(matrix[a]), dim=-1)
        fb = torch.nn.functional.normalize(linear(matrix[b]), dim=-1)
        return (fa * fb).sum(-1)

    def auc(data: tuple[torch.Tensor, torch.Tensor, np.ndarray]) -> float:
        with torch.no_grad():
            return float(roc_auc_score(data[2], cosine(data[0], data[1]).numpy()))

    labels = torch.tensor(train[2])
    best = (auc(val), auc(test), 0)
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(labels))
        for start in range(0, len(order), 512):
            batch = order[start:start + 512]
            logits = 20.0 * (cosine(train[0][batch], train[1][batch]) - 0.3)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val_auc = auc(val)
        if val_auc > best[0]:
            best = (val_auc, auc(test), epoch)
    return {"validation_auc": round(best[0], 4), "test_auc": round(best[1], 4),
            "epoch": best[2], "train_pairs": len(labels)}


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    frame = pd.read_parquet(path)
    return {str(p): np.asarray(v, dtype=np.float32) / np.linalg.norm(v)
            for p, v in zip(frame["pmid"], frame["vector"], strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, required=True, help="pairing run folder")
    parser.add_argument("--vectors", type=Path, required=True, help="pmid,vector Parquet")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--probe", action="store_true", help="add the linear-probe bound")
    args = parser.parse_args()
    pairs = pd.read_parquet(args.pairs / "pairs.parquet" if args.pairs.is_dir() else args.pairs)
    vectors = read_vectors(args.vectors)
    result: dict[str, Any] = difficulty(pairs, vectors)
    for split, r in result.items():
        print(f"{split}: {r['pairs']} pairs, AUC {r['auc']:.4f}; positives vs "
              + ", ".join(f"{k} {v:.4f}" for k, v in r["auc_positives_vs"].items()))
        for kind, k in r["kinds"].items():
            print(f"  {kind:16s} {k['pairs']:7d} pairs ({k['share_of_label']:.1%} of its label)"
                  f"  mean cosine {k['mean_cosine']:.3f}")
    if args.probe:
        for drop in (False, True):
            probe = linear_probe(pairs, vectors, drop_vector_hard=drop)
            label = "without vector hard negatives" if drop else "all train pairs"
            result[f"probe ({label})"] = probe
            print(f"linear probe, {label}: {probe['train_pairs']} train pairs, epoch "
                  f"{probe['epoch']} by validation AUC {probe['validation_auc']:.4f}: test AUC "
                  f"{probe['test_auc']:.4f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
