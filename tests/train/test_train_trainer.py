"""Training runs end to end on the tiny model (a few steps each)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pubgraph.core.errors import TrainingError
from pubgraph.train.config import load_config
from pubgraph.train.trainer import refresh_card, train

from .conftest import PAIR_RUN_ID


def quiet(_: str) -> None:
    pass


def test_graph_pairs_run_writes_a_complete_output(
    tmp_path: Path, pairs_dir: Path, tiny_model_dir: Path
) -> None:
    out = tmp_path / "model"
    cfg = load_config(None, train_file=str(pairs_dir / "pairs.parquet"), output_dir=str(out),
                      base_model=str(tiny_model_dir), loss="mnrl", hard_negatives=True,
                      batch_size=4, max_steps=4, save_steps=2, eval_steps=2, logging_steps=1,
                      max_seq_length=48, warmup_steps=0, final_eval=["pairs"])
    result = train(cfg, progress=False, log=quiet)
    assert result.global_step == 4

    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(out), device="cpu").encode(["insulin"]).shape == (1, 32)
    meta = json.loads((out / "pubgraph_train.json").read_text())
    raw = pd.read_parquet(pairs_dir / "pairs.parquet")
    n_pos = int(((raw["split"] == "train") & (raw["label"] == 1)).sum())
    assert meta["pair_run_id"] == PAIR_RUN_ID
    assert meta["train_examples"] == n_pos
    assert meta["train_columns"] == ["anchor", "positive", "negative"]
    assert meta["test_examples"] == int((raw["split"] == "test").sum())
    assert yaml.safe_load((out / "train_config.yaml").read_text()) == cfg.to_dict()
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["results"]["model"]) == {"pairs:test"}
    assert set(metrics["results"]["base"]) == {"pairs:test"}
    with (out / "loss_curve.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["step"] for r in rows if r.get("loss")] == ["1", "2", "3", "4"]
    assert any(r.get("eval_loss") for r in rows)
    assert (out / "loss_curve.png").stat().st_size > 1000
    card = (out / "README.md").read_text()
    assert f"| PairRun id | {PAIR_RUN_ID} |" in card and "| pairs:test" in card
    assert "checkpoint-4" in {p.name for p in (out / "checkpoints").iterdir()}
    assert "Measured " in card and "- `pairs:test`: " in card

    # the card can be rebuilt from the stored files alone
    (out / "README.md").unlink()
    assert refresh_card(out).read_text() == card

    # the same output dir again needs --resume or --overwrite
    with pytest.raises(TrainingError, match="--resume"):
        train(cfg, progress=False, log=quiet)
    # resume: continue from checkpoint-4 up to 6 steps
    more = cfg.replace(max_steps=6, final_eval=(), compare_base=False)
    resumed = train(more, resume=True, progress=False, log=quiet)
    assert resumed.global_step == 6
    meta = json.loads((out / "pubgraph_train.json").read_text())
    assert meta["resumed_from"].endswith("checkpoint-4")


def test_resume_without_checkpoint(tmp_path: Path, labelled_csv: Path) -> None:
    cfg = load_config(None, train_file=str(labelled_csv), output_dir=str(tmp_path / "m"))
    with pytest.raises(TrainingError, match="no checkpoint"):
        train(cfg, resume=True, progress=False, log=quiet)


@pytest.mark.parametrize(
    "loss", ["cosine", "contrastive", "online_contrastive", "triplet", "cached_mnrl"]
)
def test_every_loss_trains(
    tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path, loss: str
) -> None:
    from sentence_transformers import SentenceTransformer

    before = SentenceTransformer(str(tiny_model_dir), device="cpu").encode(["insulin glucose"])
    cfg = load_config(None, train_file=str(labelled_csv), output_dir=str(tmp_path / loss),
                      base_model=str(tiny_model_dir), loss=loss, batch_size=4, max_steps=2,
                      mini_batch_size=2, max_seq_length=32, warmup_steps=0, learning_rate=1e-3,
                      final_eval=[], compare_base=False, logging_steps=1)
    result = train(cfg, progress=False, log=quiet)
    assert result.global_step == 2
    after = SentenceTransformer(str(tmp_path / loss), device="cpu").encode(["insulin glucose"])
    assert not (before == after).all()  # the weights moved
    history = json.loads((tmp_path / loss / "metrics.json").read_text())["train"]
    assert history["train_loss"] == history["train_loss"]  # finite, not NaN


def test_eval_split_aliases() -> None:
    from pubgraph.train.trainer import _eval_split

    assert _eval_split("validation", ["test", "train", "val"]) == "val"
    assert _eval_split("validation", ["train", "validation"]) == "validation"
    assert _eval_split("validation", ["train"]) is None
    assert _eval_split("holdout", ["holdout", "val"]) == "holdout"


def test_train_and_eval_pairs_are_capped_by_seeded_samples(pairs_dir: Path) -> None:
    from pubgraph.train.trainer import load_train_data

    raw = pd.read_parquet(pairs_dir / "pairs.parquet")
    n_val = int((raw["split"] == "validation").sum())
    assert n_val > 3
    full = load_train_data(load_config(None, train_file=str(pairs_dir / "pairs.parquet"),
                                       max_eval_pairs=None))
    assert full.eval is not None and len(full.eval) == n_val
    capped_cfg = load_config(None, train_file=str(pairs_dir / "pairs.parquet"),
                             max_train_pairs=6, max_eval_pairs=3)
    capped = load_train_data(capped_cfg)
    again = load_train_data(capped_cfg)
    assert capped.eval is not None and len(capped.eval) == 3
    assert len(capped.train) == 6
    assert capped.eval.frame.equals(again.eval.frame)  # the same seed, the same sample
    assert set(capped.eval.frame["pmid_a"]) <= set(full.eval.frame["pmid_a"])


def test_title_abstract_pairs_join_the_train_data(pairs_dir: Path) -> None:
    from pubgraph.train.trainer import load_train_data

    pairs = str(pairs_dir / "pairs.parquet")
    plain = load_train_data(load_config(None, train_file=pairs, max_train_pairs=6))
    mixed = load_train_data(load_config(None, train_file=pairs, max_train_pairs=6,
                                        title_abstract_pairs=4))
    assert len(mixed.train) == len(plain.train) + 4
    added = mixed.train.frame.iloc[len(plain.train):]
    assert (added["pmid_a"] == added["pmid_b"]).all() and (added["label"] == 1).all()
    # Evaluation and test rows are untouched.
    assert mixed.eval is not None and plain.eval is not None
    assert mixed.eval.frame.equals(plain.eval.frame)
