"""Article-level train/validation/test splits (pure code).

Splits are assigned to articles, never to pairs: a pair is kept only when both of its
articles fall in the same split, so no text appears in two splits. The hash split is a
deterministic function of ``(seed, pmid)`` (BLAKE2b), so it does not depend on which
articles are loaded or in which order; the year split puts articles of ``by_year`` and
later in test, and divides the older ones between train and validation by the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pubgraph.pairing.config import SPLITS, SplitConfig


def unit_hash(seed: int, key: str) -> float:
    """A uniform number in [0, 1) from ``(seed, key)``; stable across runs and platforms."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def derive_seed(seed: int, *parts: str) -> int:
    """An independent 63-bit seed for one use (e.g. one strategy) of the run's seed."""
    digest = hashlib.blake2b(":".join([str(seed), *parts]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def hash_split(pmid: str, seed: int, config: SplitConfig) -> str:
    """``train`` / ``validation`` / ``test`` for one article by hash."""
    u = unit_hash(seed, pmid)
    if u < config.train:
        return "train"
    if u < config.train + config.validation:
        return "validation"
    return "test"


def year_split(pmid: str, year: int | None, seed: int, config: SplitConfig) -> str | None:
    """Test for ``year >= by_year``; older articles train/validation by hash; None without year."""
    assert config.by_year is not None
    if year is None:
        return None
    if year >= config.by_year:
        return "test"
    older = config.train + config.validation
    return "train" if unit_hash(seed, pmid) * older < config.train else "validation"


@dataclass(frozen=True)
class SplitAssignment:
    """The split of every text article; articles without one (no year in a year split)
    are listed in ``unassigned`` and none of their pairs is kept."""

    split_of: Mapping[str, str]
    unassigned: tuple[str, ...]

    def members(self, split: str) -> list[str]:
        """The articles of one split, sorted."""
        return sorted(p for p, s in self.split_of.items() if s == split)

    def counts(self) -> dict[str, int]:
        """Articles per split (and unassigned)."""
        out = dict.fromkeys(SPLITS, 0)
        for s in self.split_of.values():
            out[s] += 1
        out["unassigned"] = len(self.unassigned)
        return out

    def same_split(self, a: str, b: str) -> bool:
        """True when both articles have a split and it is the same one."""
        sa = self.split_of.get(a)
        return sa is not None and sa == self.split_of.get(b)


def assign_splits(
    articles: Iterable[tuple[str, int | None]], seed: int, config: SplitConfig
) -> SplitAssignment:
    """Assign ``(pmid, year)`` articles to splits by hash or, with ``by_year``, by year."""
    split_of: dict[str, str] = {}
    unassigned: list[str] = []
    for pmid, year in articles:
        if config.by_year is None:
            split_of[pmid] = hash_split(pmid, seed, config)
        else:
            s = year_split(pmid, year, seed, config)
            if s is None:
                unassigned.append(pmid)
            else:
                split_of[pmid] = s
    return SplitAssignment(split_of, tuple(sorted(unassigned)))
