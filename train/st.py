"""One place for the sentence-transformers imports that moved between releases.

sentence-transformers 5.4+ moved losses, evaluators, samplers and modules under
``sentence_transformers.sentence_transformer`` and left deprecation shims at the old
paths; 3.x only has the old paths. Everything in ``train`` imports them from here.
"""

from __future__ import annotations

try:  # sentence-transformers >= 5.4
    from sentence_transformers.sentence_transformer import evaluation, losses
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
except ImportError:  # pragma: no cover - sentence-transformers 3.x / early 5.x
    from sentence_transformers import evaluation, losses  # type: ignore[no-redef,attr-defined]
    from sentence_transformers.models import Pooling, Transformer  # type: ignore[no-redef]
    from sentence_transformers.training_args import BatchSamplers  # type: ignore[no-redef]

from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)

__all__ = [
    "BatchSamplers",
    "Pooling",
    "SentenceTransformer",
    "SentenceTransformerTrainer",
    "SentenceTransformerTrainingArguments",
    "Transformer",
    "evaluation",
    "losses",
]
