"""WiSE-FT merging: the arithmetic, the directory it writes, training's merge_alpha, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.core.errors import TrainingError
from pubgraph.train.config import load_config
from pubgraph.train.merge import interpolate_state, merge_directory
from pubgraph.train.trainer import train


def test_interpolate_state_is_the_convex_combination() -> None:
    base = {"w": torch.tensor([0.0, 4.0]), "ids": torch.tensor([0, 1, 2])}
    tuned = {"w": torch.tensor([8.0, 0.0]), "ids": torch.tensor([5, 6, 7])}
    merged = interpolate_state(base, tuned, 0.25)
    assert merged["w"].tolist() == [2.0, 3.0]  # 0.75 * base + 0.25 * tuned
    assert merged["ids"].tolist() == [5, 6, 7]  # integer buffers come from the tuned side
    assert interpolate_state(base, tuned, 0.0)["w"].tolist() == [0.0, 4.0]
    assert interpolate_state(base, tuned, 1.0)["w"].tolist() == [8.0, 0.0]


def test_interpolate_state_names_what_does_not_fit() -> None:
    base = {"w": torch.zeros(2), "extra": torch.zeros(1)}
    with pytest.raises(TrainingError, match="'extra' is missing from the fine-tuned model"):
        interpolate_state(base, {"w": torch.zeros(2)}, 0.5)
    with pytest.raises(TrainingError, match=r"'w' has shape \(2,\) in the base and \(3,\)"):
        interpolate_state({"w": torch.zeros(2)}, {"w": torch.zeros(3)}, 0.5)
    with pytest.raises(TrainingError, match=r"alpha must lie in \[0, 1\]"):
        interpolate_state({"w": torch.zeros(2)}, {"w": torch.zeros(2)}, 1.5)


def _trained(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, **extra: object) -> Path:
    out = tmp_path / "tuned"
    cfg = load_config(None, train_file=str(labelled_csv), output_dir=str(out),
                      base_model=str(tiny_model_dir), loss="cosine", batch_size=4, max_steps=3,
                      max_seq_length=32, warmup_steps=0, learning_rate=5e-3, final_eval=[],
                      compare_base=False, logging_steps=1, **extra)
    train(cfg, progress=False, log=lambda _: None)
    return out


def _weights(path: Path) -> dict[str, torch.Tensor]:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu").state_dict()


def test_merge_directory_writes_the_midpoint_model(
    tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path
) -> None:
    tuned_dir = _trained(tmp_path, labelled_csv, tiny_model_dir)
    out = merge_directory(tuned_dir, str(tiny_model_dir), 0.5, tmp_path / "merged")

    base, tuned, merged = _weights(tiny_model_dir), _weights(tuned_dir), _weights(out)
    moved = [k for k in tuned
             if tuned[k].is_floating_point() and not torch.equal(base[k], tuned[k])]
    assert moved  # training changed weights, so the check below is not trivially true
    for key in moved:
        torch.testing.assert_close(merged[key], (base[key] + tuned[key]) / 2)
    meta = json.loads((out / "pubgraph_train.json").read_text())
    assert meta["merge"] == {"method": "wise-ft", "alpha": 0.5, "base": str(tiny_model_dir),
                             "fine_tuned": str(tuned_dir)}
    assert meta["output_dir"] == str(out)
    assert (out / "train_config.yaml").is_file() and not (out / "metrics.json").exists()

    # alpha 0 gives back the base model's embeddings
    from sentence_transformers import SentenceTransformer

    zero = merge_directory(tuned_dir, str(tiny_model_dir), 0.0, tmp_path / "zero")
    text = ["insulin glucose diabetes"]
    np.testing.assert_allclose(
        SentenceTransformer(str(zero), device="cpu").encode(text),
        SentenceTransformer(str(tiny_model_dir), device="cpu").encode(text), atol=1e-6)

    with pytest.raises(TrainingError, match="is not empty"):
        merge_directory(tuned_dir, str(tiny_model_dir), 0.5, out)
    with pytest.raises(TrainingError, match="another directory"):
        merge_directory(tuned_dir, str(tiny_model_dir), 0.5, tuned_dir, overwrite=True)


def test_training_with_merge_alpha_keeps_the_unmerged_weights(
    tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path
) -> None:
    out = _trained(tmp_path, labelled_csv, tiny_model_dir, merge_alpha=0.25)
    base, unmerged, merged = (_weights(tiny_model_dir), _weights(out / "unmerged"),
                              _weights(out))
    moved = [k for k in base if base[k].is_floating_point()
             and not torch.equal(base[k], unmerged[k])]
    assert moved
    for key in moved:
        torch.testing.assert_close(merged[key], 0.75 * base[key] + 0.25 * unmerged[key])
    meta = json.loads((out / "pubgraph_train.json").read_text())
    assert meta["merge"]["alpha"] == 0.25
    assert "WiSE-FT: 0.75 × base" in (out / "README.md").read_text()
    with pytest.raises(TrainingError, match="merge_alpha must lie in"):
        load_config(None, train_file=str(labelled_csv), merge_alpha=-0.1)


def test_merge_command_uses_the_recorded_base(
    tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path
) -> None:
    tuned_dir = _trained(tmp_path, labelled_csv, tiny_model_dir)
    runner = CliRunner()
    out = tmp_path / "cli-merged"
    result = runner.invoke(app, ["merge", str(tuned_dir), "--out", str(out), "--alpha", "0.75"])
    assert result.exit_code == 0, result.output
    assert f"with {tiny_model_dir} -> {out}" in result.output
    assert json.loads((out / "pubgraph_train.json").read_text())["merge"]["alpha"] == 0.75
    result = runner.invoke(app, ["merge", str(tuned_dir), "--out", str(out), "--alpha", "2"])
    assert result.exit_code != 0


def test_final_comparison_scores_the_untouched_base(
    tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    from pubgraph.train import evaluate

    out = tmp_path / "merged-run"
    cfg = load_config(None, train_file=str(labelled_csv), output_dir=str(out),
                      base_model=str(tiny_model_dir), loss="cosine", batch_size=4, max_steps=3,
                      max_seq_length=32, warmup_steps=0, learning_rate=5e-3,
                      eval_file=str(labelled_csv), final_eval=["eval_file"], logging_steps=1,
                      merge_alpha=0.5)
    train(cfg, progress=False, log=lambda _: None)
    results = json.loads((out / "metrics.json").read_text())["results"]
    base = SentenceTransformer(str(tiny_model_dir), device="cpu")
    base.max_seq_length = 32
    task = evaluate.csv_task(labelled_csv)
    expected = task.run(base)
    assert results["base"][task.name]["auc"] == pytest.approx(expected["auc"])
    assert results["model"][task.name]["auc"] != results["base"][task.name]["auc"]
