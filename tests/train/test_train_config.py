"""Training config: YAML reading, validation, fast mode, precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import TrainingError
from pubgraph.train.config import apply_fast, load_config, resolve_precision
from pubgraph.train.models import TINY_MODEL_NAME


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.yaml"
    path.write_text(text)
    return path


def test_load_yaml_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "train_file: a.csv\nloss: cosine\nbatch_size: 8\n"
                           "strategies: [citation, mesh]\nlearning_rate: 3.0e-5\n")
    cfg = load_config(path, batch_size=None, epochs=2)
    assert cfg.train_file == "a.csv" and cfg.loss == "cosine" and cfg.batch_size == 8
    assert cfg.strategies == ("citation", "mesh")
    assert cfg.epochs == 2 and cfg.learning_rate == 3e-5
    assert cfg.to_dict()["strategies"] == ["citation", "mesh"]


def test_base_model_defaults_to_the_given_default(tmp_path: Path) -> None:
    """The CLI passes Settings.base_model (PUBGRAPH_BASE_MODEL) as the default."""
    cfg = load_config(write(tmp_path, "train_file: a.csv\n"), default_base_model="/models/pb")
    assert cfg.base_model == "/models/pb"
    pinned = load_config(write(tmp_path, "train_file: a.csv\nbase_model: x\n"),
                         default_base_model="/models/pb")
    assert pinned.base_model == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train_file: a.csv\nlos: mnrl\n", "unknown training config key(s) los"),
        ("train_file: a.csv\nloss: hinge\n", "loss 'hinge' is not one of"),
        ("train_file: a.csv\nbatch_size: 0\n", "batch_size must be >= 1"),
        ("train_file: a.csv\nnegative_target: 2\n", "negative_target"),
        ("train_file: a.csv\nbatch_size: many\n", "batch_size must be an integer"),
        ("train_file: a.csv\nfinal_eval: [mteb]\n", "final_eval task 'mteb'"),
        ("train_file: a.csv\ntitle_abstract_pairs: -1\n", "title_abstract_pairs must be >= 0"),
        ("loss: mnrl\n", "train_file is required"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_configs_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TrainingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(write(tmp_path, text))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_fast_mode_shrinks_the_run(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "train_file: a.csv\nbatch_size: 64\nepochs: 3\n"
                                      "final_eval: [pairs, biosses]\nfast: true\n"))
    assert cfg.base_model == TINY_MODEL_NAME
    assert cfg.max_steps == 6 and cfg.batch_size == 4 and cfg.max_seq_length == 32
    assert cfg.final_eval == ("pairs",)
    # an explicit base model is kept
    explicit = apply_fast(cfg.replace(base_model="/m/tiny", fast=False))
    assert explicit.base_model == "/m/tiny"


def test_precision() -> None:
    assert resolve_precision("auto", "cpu") == (False, False)
    assert resolve_precision("fp16", "cuda") == (True, False)
    assert resolve_precision("bf16", "cuda:0") == (False, True)
    assert resolve_precision("fp32", "cuda") == (False, False)


@pytest.mark.parametrize("name", sorted(p.name for p in (
    Path(__file__).resolve().parents[2] / "configs").glob("train*.yaml")))
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / name)
    assert cfg.train_file and cfg.output_dir.startswith("runs/train/")
    if name == "train.yaml":  # the default recipe: graph pairs, MNRL, merged with the base
        assert (cfg.loss, cfg.merge_alpha, cfg.max_train_pairs) == ("mnrl", 0.7, 8000)
