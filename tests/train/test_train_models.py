"""Base model resolution (offline) and the tiny model builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pubgraph.core.errors import TrainingError
from pubgraph.train.models import bundled_minilm_path, resolve_model, wordpiece_vocab


@pytest.mark.parametrize(
    "name", ["sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"]
)
def test_minilm_names_map_to_the_bundled_copy(name: str) -> None:
    path = Path(resolve_model(name))
    assert path == bundled_minilm_path()
    assert (path / "modules.json").is_file() and (path / "model.safetensors").is_file()


def test_local_directory_passes_through(tmp_path: Path) -> None:
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())


def test_missing_local_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match=r"does not exist.*PUBGRAPH_BASE_MODEL"):
        resolve_model(str(tmp_path / "nope"))


def test_hub_name_offline_and_uncached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(
        TrainingError, match=r"refuses the download.*HF_HUB_OFFLINE=0.*PUBGRAPH_BASE_MODEL"
    ):
        resolve_model("microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext")


def test_hub_name_online_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    name = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext"
    assert resolve_model(name) == name


def test_wordpiece_vocab_covers_every_character() -> None:
    vocab = wordpiece_vocab(["Tumor growth, tumor!"], size=100)
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert "tumor" in vocab and "growth" in vocab and "," in vocab
    assert {"q", "##q", "7", "##7"} <= set(vocab)
    assert len(vocab) == len(set(vocab))


def test_tiny_model_tokenizes_without_unknowns(tiny_model) -> None:
    tokens = tiny_model.tokenizer.tokenize("Insulin glucose xyzzy")
    assert "[UNK]" not in tokens and tokens[:2] == ["insulin", "glucose"]
    assert tiny_model.encode(["insulin"]).shape == (1, 32)
