"""Pairing runs: strategies → article splits → capped, balanced pairs → Parquet + ``PairRun``.

A run is a deterministic function of (graph, config): PMID-ordered statements, seeded
sampling and a hash split make the same seed on the same graph give identical pairs.
The run id is derived from the configuration and a fingerprint of the graph (counts and a
PMID checksum), so re-running the same job updates its ``PairRun`` node instead of
adding another.

Files written to the run directory:

* ``pairs.parquet``: ``pmid_a, pmid_b, label, strategy, score, split``;
* ``splits.parquet``: ``pmid, year, split`` for every text article with a split;
* ``run.json``: id, configuration, graph fingerprint, counts and the statement log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pubgraph.core import contracts
from pubgraph.core.contracts import PAIRS_FILE, RUN_FILE, SPLITS_FILE
from pubgraph.core.errors import PairingError
from pubgraph.graph.db import GraphDB, run_read, run_write
from pubgraph.pairing import queries as q
from pubgraph.pairing.config import NEGATIVE_STRATEGIES, SPLITS, PairingConfig
from pubgraph.pairing.splits import SplitAssignment, assign_splits
from pubgraph.pairing.strategies import (
    Candidate,
    NegativeContext,
    Selector,
    Statement,
    StatementRunner,
    generate_negatives,
    generate_positives,
    job_for,
)

PAIR_COLUMNS: tuple[str, ...] = ("pmid_a", "pmid_b", "label", "strategy", "score", "split")

Progress = Callable[[str], None]
log = logging.getLogger("pubgraph.pairing")
# `hard` "found little" below this share of its budget.
HARD_LOW_SHARE = 0.1


@dataclass
class RunResult:
    """What a run produced."""

    run_id: str
    out_dir: Path
    counts: dict[str, Any]
    duration: float
    fingerprint: dict[str, int]
    config: PairingConfig
    pairs: list[dict[str, Any]] = field(repr=False, default_factory=list)
    statements: list[dict[str, Any]] = field(repr=False, default_factory=list)

    @property
    def pairs_path(self) -> Path:
        return self.out_dir / PAIRS_FILE


def graph_fingerprint(driver: GraphDB) -> dict[str, int]:
    """Counts that identify the graph's state (text articles, stubs, edges, a PMID sum)."""
    row = run_read(driver, q.GRAPH_FINGERPRINT)[0]
    return {k: int(row[k] or 0) for k in sorted(row)}


def run_id_for(config: PairingConfig, fingerprint: Mapping[str, int]) -> str:
    """``pr-`` + 12 hex digits of SHA-256 over the canonical config and the fingerprint."""
    blob = json.dumps({"config": config.to_dict(), "graph": dict(fingerprint)}, sort_keys=True)
    return "pr-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _negative_budgets(total: int, strategies: Sequence[str]) -> list[int]:
    n = len(strategies)
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def run_pairs(
    driver: GraphDB,
    config: PairingConfig,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    record: bool = True,
    workers: int = 2,
    pairs_root: str | Path = "pairs",
) -> RunResult:
    """Run ``config.strategies`` on the graph; write the pairs; record a ``PairRun``.

    Positives run first (best score first, capped per article), then the negatives share
    ``negatives_per_positive`` × positives (a shortfall of one negative strategy passes to
    the next), drawn for the positives' anchors within their split. ``workers`` parallel
    transactions run the pairwise positive statements (the pairs do not depend on it).
    """
    config.validate()
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    fingerprint = graph_fingerprint(driver)
    if fingerprint["text_articles"] == 0:
        raise PairingError(
            "the graph has no articles with text (stub=false): load PubMed files first "
            "(`pubgraph graph load FILES`)"
        )
    run_id = run_id_for(config, fingerprint)
    out = Path(out_dir) if out_dir is not None else Path(pairs_root) / run_id
    runner = StatementRunner(driver, workers=workers)

    say("assigning article splits")
    articles = [
        (str(r["pmid"]), _year(r["year"]))
        for r in runner.read(Statement("articles_for_split", q.ARTICLES_FOR_SPLIT))
    ]
    splits = assign_splits(articles, config.seed, config.splits)

    taken: dict[tuple[str, str], int] = {}
    by_strategy: dict[str, dict[str, Any]] = {}
    kept: list[tuple[str, Candidate]] = []
    positives = [s for s in config.strategies if s not in NEGATIVE_STRATEGIES]
    negatives = [s for s in config.strategies if s in NEGATIVE_STRATEGIES]

    for name in positives:
        t0 = time.perf_counter()
        say(f"{name}: querying the graph")
        job = job_for(name, config.params_for(name))
        candidates, info = generate_positives(job, runner, [p for p, _ in articles])
        sel = Selector(name, 1, splits, config.cap_for(name), taken)
        for c in candidates:
            sel.offer(c)
        kept.extend((name, c) for c in sel.kept)
        by_strategy[name] = _strategy_counts(1, len(candidates), sel, info, t0)
        warning = strategy_warning(name, by_strategy[name], config)
        if warning:
            by_strategy[name]["warning"] = warning

    n_pos = len(kept)
    if negatives:
        total = expected_negatives(n_pos, config)
        anchors = [c.pmid_a for _, c in kept] if positives else sorted(splits.split_of)
        done = 0
        for i, name in enumerate(negatives):
            t0 = time.perf_counter()
            budget = _negative_budgets(total - done, negatives[i:])[0]
            say(f"{name}: drawing {budget} negatives")
            job = job_for(name, config.params_for(name))
            sel = Selector(name, 0, splits, config.cap_for(name), taken)
            ctx = NegativeContext(splits, anchors, budget, config.seed, sel)
            info = generate_negatives(job, runner, ctx)
            kept.extend((name, c) for c in sel.kept)
            done += len(sel.kept)
            by_strategy[name] = _strategy_counts(0, None, sel, info, t0)
            warning = strategy_warning(name, by_strategy[name], config)
            if warning:
                by_strategy[name]["warning"] = warning

    pairs = [
        {
            "pmid_a": c.pmid_a,
            "pmid_b": c.pmid_b,
            "label": 0 if name in NEGATIVE_STRATEGIES else 1,
            "strategy": name,
            "score": float(c.score),
            "split": splits.split_of[c.pmid_a],
        }
        for name, c in kept
    ]
    counts = summarise(pairs, splits, by_strategy)
    counts["warnings"] = [s["warning"] for s in by_strategy.values() if s.get("warning")]
    for warning in counts["warnings"]:
        log.warning(warning)
    duration = time.perf_counter() - start
    result = RunResult(run_id, out, counts, duration, fingerprint, config, pairs, runner.log)
    write_run_files(result, splits, articles)
    if record:
        record_run(driver, result)
    return result


def strategy_warning(
    name: str, counts: Mapping[str, Any], config: PairingConfig
) -> str | None:
    """Why a strategy found nothing (or little), and what to change; None when it did fine.

    ``shared_mesh`` drops descriptors held by more than ``max_df`` of the articles: on a
    small corpus that can be every descriptor. ``hard`` draws on the MeSH hierarchy and the
    article vectors: without both it has little but citation two-hops to offer."""
    kept = int(counts.get("kept", 0))
    if name == "shared_mesh" and kept == 0:
        p = config.params_for(name)
        max_df, k, min_idf = (getattr(p, a) for a in ("max_df", "k", "min_idf"))
        eligible = counts.get("eligible_descriptors")
        reason = (
            f"no MeSH descriptor is held by at least 2 and at most max_df={max_df:g} of "
            f"the {counts.get('mesh_articles', 0):,} articles with MeSH"
            if not eligible
            else f"{eligible:,} descriptors qualified, but no pair shares k="
            f"{k} of them with summed IDF >= min_idf={min_idf:g}"
        )
        return (
            f"shared_mesh made 0 pairs: {reason}. On a small corpus raise max_df (e.g. 0.05) "
            "or lower k / min_idf under params: shared_mesh: in a pairs.yaml (--config)"
        )
    if name == "hard":
        budget = int(counts.get("budget", 0))
        if budget > 0 and kept < HARD_LOW_SHARE * budget:
            missing = []
            if str(counts.get("branch", "")).startswith("skipped"):
                missing.append("the MeSH hierarchy (`pubgraph graph load-mesh FILE`)")
            if str(counts.get("vector", "")).startswith("skipped"):
                missing.append("article vectors (`pubgraph embed`)")
            need = (
                "it needs " + " and ".join(missing) + "; without them only citation two-hops "
                "(A cites X cites B) are left"
                if missing
                else "the MeSH branches, citation two-hops and vector neighbours it draws on "
                "gave few candidates that pass the guard"
            )
            return f"hard found {kept:,} of {budget:,} negatives: {need}"
    return None


def _year(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None




def _strategy_counts(
    label: int, candidates: int | None, sel: Selector, info: Mapping[str, Any], t0: float
) -> dict[str, Any]:
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {"label": label, "kept": len(sel.kept), "seconds": round(seconds, 3)}
    if candidates is not None:
        out["candidates"] = candidates
    out["dropped"] = {
        k: v for k, v in sorted(sel.stats.items()) if k != "kept" and not k.startswith("kept_")
    }
    sources = {k[5:]: v for k, v in sorted(sel.stats.items()) if k.startswith("kept_")}
    if sources:
        out["sources"] = sources
    out.update(info)
    out["pairs_per_second"] = round(len(sel.kept) / seconds, 1) if seconds > 0 else None
    return out


def summarise(
    pairs: Sequence[Mapping[str, Any]],
    splits: SplitAssignment,
    by_strategy: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Run counts: pairs by label/split, article splits, and the cross-split share (0)."""
    labels = Counter(int(p["label"]) for p in pairs)
    by_split = Counter(str(p["split"]) for p in pairs)
    crossing = sum(1 for p in pairs if not splits.same_split(p["pmid_a"], p["pmid_b"]))
    dropped_cross = sum(
        int(s.get("dropped", {}).get("cross_split", 0)) for s in by_strategy.values()
    )
    return {
        "pairs": len(pairs),
        "positives": labels.get(1, 0),
        "negatives": labels.get(0, 0),
        "by_split": {s: by_split.get(s, 0) for s in SPLITS},
        "articles": splits.counts(),
        "cross_split_pairs": crossing,
        "cross_split_share": crossing / len(pairs) if pairs else 0.0,
        "dropped_cross_split": dropped_cross,
        "by_strategy": dict(by_strategy),
    }


def write_run_files(
    result: RunResult, splits: SplitAssignment, articles: Sequence[tuple[str, int | None]]
) -> None:
    """Write ``pairs.parquet``, ``splits.parquet`` and ``run.json`` to the run directory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    result.out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(list(result.pairs), schema=PAIRS_SCHEMA)
    pq.write_table(table, result.out_dir / PAIRS_FILE)
    rows = [
        {"pmid": p, "year": y, "split": splits.split_of[p]}
        for p, y in articles
        if p in splits.split_of
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=SPLITS_SCHEMA), result.out_dir / SPLITS_FILE)
    manifest = {
        "id": result.run_id,
        "config": result.config.to_dict(),
        "graph": result.fingerprint,
        "counts": result.counts,
        "duration": round(result.duration, 3),
        "statements": result.statements,
    }
    (result.out_dir / RUN_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _schemas() -> tuple[Any, Any]:
    import pyarrow as pa

    pairs = pa.schema(
        [
            ("pmid_a", pa.string()),
            ("pmid_b", pa.string()),
            ("label", pa.int8()),
            ("strategy", pa.string()),
            ("score", pa.float64()),
            ("split", pa.string()),
        ]
    )
    split = pa.schema([("pmid", pa.string()), ("year", pa.int32()), ("split", pa.string())])
    return pairs, split


PAIRS_SCHEMA, SPLITS_SCHEMA = _schemas()


def record_run(driver: GraphDB, result: RunResult) -> None:
    """MERGE the run's ``PairRun`` node (same id → updated, never duplicated)."""
    run_write(
        driver,
        q.MERGE_PAIR_RUN,
        {
            "id": result.run_id,
            "strategy": ",".join(result.config.strategies),
            "params": json.dumps(result.config.to_dict(), sort_keys=True),
            "seed": result.config.seed,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": json.dumps(result.counts, sort_keys=True),
            "duration": round(result.duration, 3),
            "out": str(result.out_dir.resolve()),
        },
    )


# --- list / show / diff -----------------------------------------------------------------


def list_runs(driver: GraphDB) -> list[dict[str, Any]]:
    """Every ``PairRun``, newest first, with ``counts``/``params`` decoded."""
    return [_decode(r) for r in run_read(driver, q.LIST_PAIR_RUNS)]


def get_run(driver: GraphDB, run_id: str) -> dict[str, Any]:
    """One ``PairRun`` by id or unique id prefix."""
    rows = run_read(driver, q.GET_PAIR_RUN, {"id": run_id})
    exact = [r for r in rows if r["id"] == run_id]
    if exact:
        return _decode(exact[0])
    if not rows:
        raise PairingError(f"no pairing run '{run_id}' (see `pubgraph pairs list`)")
    if len(rows) > 1:
        raise PairingError(
            f"run id prefix '{run_id}' is ambiguous: " + ", ".join(r["id"] for r in rows)
        )
    return _decode(rows[0])


def _decode(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("counts", "params"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def run_dir(run: Mapping[str, Any] | str | Path) -> Path:
    """The directory of a run (a ``PairRun`` dict or a path), checked to hold the pairs."""
    path = Path(run["out"]) if isinstance(run, Mapping) else Path(run)
    if not (path / PAIRS_FILE).is_file():
        raise PairingError(
            f"{path / PAIRS_FILE}: pairs file not found (was the run directory moved or deleted?)"
        )
    return path


def read_pairs(run: Mapping[str, Any] | str | Path) -> list[dict[str, Any]]:
    """The pairs of a run as dicts."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(run_dir(run) / PAIRS_FILE).to_pylist()
    return rows


def read_splits(run: Mapping[str, Any] | str | Path) -> dict[str, str]:
    """``pmid → split`` of a run's articles."""
    return contracts.read_splits(run_dir(run))


def pair_summary(pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pairs by strategy × split, label balance, and the number of distinct articles."""
    table: dict[str, dict[str, int]] = {}
    for p in pairs:
        row = table.setdefault(str(p["strategy"]), dict.fromkeys(SPLITS, 0))
        row[str(p["split"])] += 1
    labels = Counter(int(p["label"]) for p in pairs)
    articles = {x for p in pairs for x in (p["pmid_a"], p["pmid_b"])}
    return {
        "by_strategy": table,
        "positives": labels.get(1, 0),
        "negatives": labels.get(0, 0),
        "positive_share": labels.get(1, 0) / len(pairs) if pairs else 0.0,
        "articles": len(articles),
    }


def mesh_coverage(
    driver: GraphDB,
    pmids: Sequence[str],
    batch: int = 5000,
) -> dict[str, Any]:
    """Distinct MeSH descriptors of ``pmids`` and their share of those in use in the graph."""
    seen: set[str] = set()
    with_mesh = 0
    ordered = sorted(set(pmids))
    for i in range(0, len(ordered), batch):
        for r in run_read(
            driver, q.ARTICLE_MESH, {"pmids": ordered[i : i + batch]}
        ):
            with_mesh += 1
            seen.update(r["mesh"])
    total = int(run_read(driver, q.TOTAL_MESH_IN_USE)[0]["n"])
    return {
        "descriptors": len(seen),
        "descriptor_share": len(seen) / total if total else 0.0,
        "articles_with_mesh": with_mesh,
        "article_share": with_mesh / len(ordered) if ordered else 0.0,
    }


def _keys(pairs: Sequence[Mapping[str, Any]]) -> set[tuple[str, str, int]]:
    out = set()
    for p in pairs:
        a, b = str(p["pmid_a"]), str(p["pmid_b"])
        out.add((min(a, b), max(a, b), int(p["label"])))
    return out


def diff_runs(
    driver: GraphDB, run_a: str, run_b: str
) -> dict[str, Any]:
    """Compare two runs: pair overlap (same unordered pair and label), label balance and
    MeSH coverage of each."""
    ra, rb = get_run(driver, run_a), get_run(driver, run_b)
    pa, pb = read_pairs(ra), read_pairs(rb)
    ka, kb = _keys(pa), _keys(pb)
    both = ka & kb
    union = ka | kb

    def side(run: Mapping[str, Any], pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        s = pair_summary(pairs)
        pmids = [x for p in pairs for x in (p["pmid_a"], p["pmid_b"])]
        return {
            "id": run["id"],
            "strategy": run["strategy"],
            "seed": run["seed"],
            "pairs": len(pairs),
            "positives": s["positives"],
            "negatives": s["negatives"],
            "positive_share": s["positive_share"],
            "mesh": mesh_coverage(driver, pmids),
        }

    return {
        "a": side(ra, pa),
        "b": side(rb, pb),
        "common": len(both),
        "only_a": len(ka - kb),
        "only_b": len(kb - ka),
        "jaccard": len(both) / len(union) if union else 1.0,
        "identical": ka == kb,
    }


def expected_negatives(n_pos: int, config: PairingConfig) -> int:
    """The negative budget of a run with ``n_pos`` positives."""
    if any(s not in NEGATIVE_STRATEGIES for s in config.strategies):
        return math.floor(config.negatives_per_positive * n_pos + 0.5)
    return config.negatives_without_positives
