"""Pure helpers of the pages (importable without an app): URL state, figure bookkeeping,
year filtering, run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_DEPTH = 4


def parse_topics(value: Any) -> list[int]:
    """``"3,7,12"`` (or a repeated parameter) as topic ids; anything else is dropped."""
    parts = value if isinstance(value, list) else str(value or "").split(",")
    out = []
    for p in parts:
        p = str(p).strip()
        if p.lstrip("-").isdigit():
            out.append(int(p))
    return list(dict.fromkeys(out))


def curve_topics(fig: Any, topics: Any) -> list[int | None]:
    """The topic of each trace of a trends figure, matched by its (possibly shortened) name."""
    labels = [(int(r.topic), str(r.label)) for r in topics.itertuples()]
    out: list[int | None] = []
    for tr in fig.data:
        name = str(tr.name or "").removesuffix(" (partial/low year)")
        stem = name[:-1] if name.endswith("…") else None
        match = next((t for t, lab in labels if lab == name or (stem and lab.startswith(stem))),
                     None)
        out.append(match)
    return out


def visible_points(points: Any, year_min: int | None, year_max: int | None, cap: int) -> Any:
    """The points within the years, sampled (seeded) down to ``cap``."""
    keep = points
    if year_min is not None:
        keep = keep[keep["year"] >= year_min]
    if year_max is not None:
        keep = keep[keep["year"] <= year_max]
    if len(keep) > cap:
        keep = keep.sample(n=cap, random_state=0)
    return keep


def find_models(roots: tuple[Path, ...]) -> list[Path]:
    """Directories under ``roots`` (depth <= 4) holding a trained model's metadata."""
    from pubgraph.train.trainer import META_FILE

    found: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for depth in range(MAX_DEPTH + 1):
            found += [p.parent for p in root.glob("/".join(["*"] * depth + [META_FILE]))]
    return sorted(set(found))
