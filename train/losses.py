"""The losses pubgraph trains with, built from a TrainConfig.

| config ``loss``      | sentence-transformers loss           | data columns                       |
|----------------------|--------------------------------------|------------------------------------|
| cosine               | CosineSimilarityLoss                 | sentence1, sentence2, score        |
| contrastive          | ContrastiveLoss (cosine distance)    | sentence1, sentence2, label        |
| online_contrastive   | OnlineContrastiveLoss (hard pairs)   | sentence1, sentence2, label        |
| triplet              | TripletLoss (cosine distance)        | anchor, positive, negative         |
| mnrl                 | MultipleNegativesRankingLoss         | anchor, positive[, negative]       |
| cached_mnrl          | CachedMultipleNegativesRankingLoss   | anchor, positive[, negative]       |

``cosine`` is the reference project's recipe: label 1 pairs are pulled to cosine 1.0,
label 0 pairs to ``negative_target`` (0.0 there). Its margin form sets
``negative_target`` above 0 (negatives need only fall to that cosine), or uses
``contrastive``/``online_contrastive`` whose ``margin`` (default 0.5) is a cosine
distance beyond which negatives cost nothing. The ranking losses learn from positives
with every other positive of the batch as a negative (InfoNCE, ``scale`` = 1 / temperature),
so their batches must not repeat a text: they train with ``BatchSamplers.NO_DUPLICATES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pubgraph.core.errors import TrainingError
from pubgraph.train.config import TrainConfig

if TYPE_CHECKING:
    from torch import nn

DEFAULT_MARGINS = {"contrastive": 0.5, "online_contrastive": 0.5, "triplet": 0.5}
RANKING = ("mnrl", "cached_mnrl")


def build_loss(cfg: TrainConfig, model: Any) -> nn.Module:
    """The loss module for ``cfg.loss`` bound to ``model``."""
    from pubgraph.train.st import losses

    margin = cfg.margin if cfg.margin is not None else DEFAULT_MARGINS.get(cfg.loss)
    if cfg.loss == "cosine":
        return losses.CosineSimilarityLoss(model)
    if cfg.loss == "contrastive":
        return losses.ContrastiveLoss(
            model,
            distance_metric=losses.SiameseDistanceMetric.COSINE_DISTANCE,
            margin=float(margin if margin is not None else DEFAULT_MARGINS[cfg.loss]),
        )
    if cfg.loss == "online_contrastive":
        return losses.OnlineContrastiveLoss(
            model,
            distance_metric=losses.SiameseDistanceMetric.COSINE_DISTANCE,
            margin=float(margin if margin is not None else DEFAULT_MARGINS[cfg.loss]),
        )
    if cfg.loss == "triplet":
        return losses.TripletLoss(
            model, distance_metric=losses.TripletDistanceMetric.COSINE,
            triplet_margin=float(margin if margin is not None else DEFAULT_MARGINS[cfg.loss]),
        )
    if cfg.loss == "mnrl":
        return losses.MultipleNegativesRankingLoss(model, scale=cfg.scale)
    if cfg.loss == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(
            model, scale=cfg.scale, mini_batch_size=cfg.mini_batch_size
        )
    raise TrainingError(f"unknown loss {cfg.loss!r}")


def batch_sampler(cfg: TrainConfig) -> Any:
    """NO_DUPLICATES for in-batch-negative losses (a repeated text would be a false
    negative), the default sampler otherwise."""
    from pubgraph.train.st import BatchSamplers

    return BatchSamplers.NO_DUPLICATES if cfg.loss in RANKING else BatchSamplers.BATCH_SAMPLER
