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

    python bench/pair_difficulty.py --pairs RUN_DIR --vectors vectors.parquet [--json out.json]
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


def read_vectors(path: Path) -> dict[str, np.ndarray]:
    frame = pd.read_parquet(path)
    return {str(p): np.asarray(v, dtype=np.float32) / np.linalg.norm(v)
            for p, v in zip(frame["pmid"], frame["vector"], strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, required=True, help="pairing run folder")
    parser.add_argument("--vectors", type=Path, required=True, help="pmid,vector Parquet")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    pairs = pd.read_parquet(args.pairs / "pairs.parquet" if args.pairs.is_dir() else args.pairs)
    result = difficulty(pairs, read_vectors(args.vectors))
    for split, r in result.items():
        print(f"{split}: {r['pairs']} pairs, AUC {r['auc']:.4f}; positives vs "
              + ", ".join(f"{k} {v:.4f}" for k, v in r["auc_positives_vs"].items()))
        for kind, k in r["kinds"].items():
            print(f"  {kind:16s} {k['pairs']:7d} pairs ({k['share_of_label']:.1%} of its label)"
                  f"  mean cosine {k['mean_cosine']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
