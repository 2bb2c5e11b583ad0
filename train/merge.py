"""Weight-space interpolation of a fine-tuned model with its base (WiSE-FT).

Wortsman et al. (2022, "Robust fine-tuning of zero-shot models") average the weights of a
fine-tuned model and the model it started from: ``theta = (1 - alpha) * base + alpha *
tuned``. Fine-tuning on graph pairs moves MiniLM towards the pairs' notion of relatedness
and away from general semantic similarity (BIOSSES drops); the interpolated model keeps
much of the first and gives back most of the second. ``alpha = 1`` is the fine-tuned model,
``alpha = 0`` the base.

The two models must share an architecture (same parameter names and shapes), which holds
for any model pubgraph trained from that base.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pubgraph.core.errors import TrainingError

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

UNMERGED_DIR = "unmerged"  # where training keeps the fine-tuned weights before merging
# What documents a pubgraph-trained model; copied so the merged directory stays evaluable.
RECORD_FILES = ("pubgraph_train.json", "train_config.yaml", "loss_curve.csv", "loss_curve.png")


def check_alpha(alpha: float) -> float:
    """``alpha`` if it lies in [0, 1], else a TrainingError."""
    if not 0.0 <= alpha <= 1.0:
        raise TrainingError(
            f"merge alpha must lie in [0, 1] (1 = the fine-tuned model), got {alpha}"
        )
    return float(alpha)


def interpolate_state(
    base: Mapping[str, torch.Tensor], tuned: Mapping[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * base + alpha * tuned`` for every floating-point tensor; other tensors
    (integer buffers such as position ids) are taken from ``tuned``.

    Raises TrainingError naming the first parameter that one side lacks or whose shape
    differs.
    """
    check_alpha(alpha)
    missing = sorted(set(base) ^ set(tuned))
    if missing:
        side = "base" if missing[0] in tuned else "fine-tuned model"
        raise TrainingError(
            f"cannot merge: parameter {missing[0]!r} is missing from the {side} "
            f"({len(missing)} differ); both must share one architecture"
        )
    merged: dict[str, torch.Tensor] = {}
    for name, t in tuned.items():
        b = base[name]
        if b.shape != t.shape:
            raise TrainingError(
                f"cannot merge: parameter {name!r} has shape {tuple(b.shape)} in the base and "
                f"{tuple(t.shape)} in the fine-tuned model"
            )
        if t.is_floating_point():
            merged[name] = b.to(t.dtype) * (1.0 - alpha) + t * alpha
        else:
            merged[name] = t.clone()
    return merged


def merge_models(
    base: SentenceTransformer, tuned: SentenceTransformer, alpha: float
) -> SentenceTransformer:
    """Load the interpolated weights into ``tuned`` (in place) and return it."""
    state = interpolate_state(base.state_dict(), tuned.state_dict(), alpha)
    tuned.load_state_dict(state)
    return tuned


def merge_directory(
    tuned_dir: str | Path,
    base_model: str,
    alpha: float,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``out_dir``: the model of ``tuned_dir`` with its weights interpolated towards
    ``base_model``. A pubgraph-trained model keeps its record files (config, metadata,
    loss curve), with the merge added to ``pubgraph_train.json``; metrics are not copied,
    since they describe the unmerged weights (``pubgraph eval`` writes new ones)."""
    from pubgraph.train.models import load_model

    src, out = Path(tuned_dir), Path(out_dir)
    check_alpha(alpha)
    if not src.is_dir():
        raise TrainingError(f"{src}: no such model directory")
    if out.resolve() == src.resolve():
        raise TrainingError(f"{out}: write the merged model to another directory than {src}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise TrainingError(f"{out} is not empty: pass --overwrite or choose another --out")
    tuned = load_model(str(src), device="cpu")
    base = load_model(base_model, device="cpu")
    merge_models(base, tuned, alpha)
    if out.exists() and overwrite:
        shutil.rmtree(out)
    tuned.save(str(out))
    for name in RECORD_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)
    meta_file = out / RECORD_FILES[0]
    if meta_file.is_file():
        meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["output_dir"] = str(out)
        meta["merge"] = merge_record(base_model, alpha, source=str(src))
        meta_file.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def merge_record(base_model: str, alpha: float, *, source: str) -> dict[str, Any]:
    """What ``pubgraph_train.json`` records of a merge."""
    return {"method": "wise-ft", "alpha": alpha, "base": base_model, "fine_tuned": source}
