"""Export a run's pairs in the forms the trainer reads, with texts read from the graph.

Formats (one split at a time; Parquet, or CSV when the output ends in ``.csv``):

* ``pairs``: positives as ``anchor, positive`` (+ ``anchor_pmid, positive_pmid``), for
  in-batch-negative losses;
* ``triplets``: ``anchor, positive, negative`` (+ PMIDs): each positive (A, P) with a
  negative of the same run that has A at one end (taken round-robin per anchor; when A has
  none, one of P's with P as the anchor; else the positive is skipped and counted);
* ``labelled``: every pair as ``text1, text2, label`` (+ ``pmid_a, pmid_b, strategy,
  score``);
* ``citations``: the held-out relevance lists for retrieval evaluation: for each article
  of the split, the text articles (of any split) it cites, is cited by, is co-cited with or
  shares 2+ references with (``pmid, relevant_pmids``); articles with none are left out.
  Default file ``citations_<split>.parquet`` (the trainer reads ``citations_test.parquet``);
* ``texts``: ``pmid, title, abstract, text, split`` of every article in the run's pairs, of
  the whole ``--split`` and of its citation lists when exported first (default file
  ``texts.parquet``, which the trainer reads beside ``pairs.parquet``).

``export_all`` writes everything the trainer reads into the run directory.

Text = title + ". " + abstract (a title's own final period is not doubled; an article
without abstract is its title). Texts are read in batches of PMIDs, never one by one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pubgraph.core.contracts import article_text
from pubgraph.core.errors import PairingError
from pubgraph.graph.db import GraphDB, run_read
from pubgraph.pairing import queries as q
from pubgraph.pairing.config import SPLITS
from pubgraph.pairing.jobs import read_pairs, read_splits, run_dir

# Bibliographic coupling counts as citation-related from this many shared references.
COUPLING_MIN_SHARED = 2
FORMATS: tuple[str, ...] = ("pairs", "triplets", "labelled", "citations", "texts")


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: Path
    format: str
    split: str
    rows: int
    skipped: dict[str, int] = field(default_factory=dict)


def fetch_articles(
    driver: GraphDB,
    pmids: Sequence[str],
    *,
    batch_size: int = 1000,
) -> dict[str, tuple[str | None, str | None]]:
    """``pmid → (title, abstract)``, read in batches of PMIDs."""
    out: dict[str, tuple[str | None, str | None]] = {}
    ordered = sorted(set(pmids))
    for i in range(0, len(ordered), batch_size):
        rows = run_read(
            driver, q.ARTICLE_TEXTS, {"pmids": ordered[i : i + batch_size]}
        )
        for r in rows:
            out[str(r["pmid"])] = (r["title"], r["abstract"])
    return out


def fetch_texts(
    driver: GraphDB,
    pmids: Sequence[str],
    *,
    batch_size: int = 1000,
) -> dict[str, str]:
    """``pmid → text`` for the articles that have text, read in batches of PMIDs."""
    out: dict[str, str] = {}
    for pmid, (title, abstract) in fetch_articles(
        driver, pmids, batch_size=batch_size
    ).items():
        text = article_text(title, abstract)
        if text:
            out[pmid] = text
    return out


def citation_lists(
    driver: GraphDB,
    pmids: Sequence[str],
    *,
    min_shared: int = COUPLING_MIN_SHARED,
    batch_size: int = 1000,
) -> dict[str, list[str]]:
    """For each of ``pmids``: the text articles, of any split, it is citation-related to
    (cites, is cited by, is co-cited with, or shares ``min_shared``+ references with).

    Other splits count because the query article is held out: pairing drops every pair
    that crosses splits, so no training pair links a test article to anything."""
    ordered = sorted(set(pmids))
    out: dict[str, list[str]] = {}
    for i in range(0, len(ordered), batch_size):
        rows = run_read(
            driver,
            q.CITATION_RELATED,
            {"pmids": ordered[i : i + batch_size], "min_shared": min_shared},
        )
        for r in rows:
            pmid = str(r["pmid"])
            relevant = sorted({str(x) for x in r["relevant_pmids"]} - {pmid})
            if relevant:
                out[pmid] = relevant
    return dict(sorted(out.items()))


def _check(fmt: str, split: str) -> None:
    if fmt not in FORMATS:
        raise PairingError(f"unknown export format '{fmt}' (known: {', '.join(FORMATS)})")
    if split not in SPLITS:
        raise PairingError(f"unknown split '{split}' (known: {', '.join(SPLITS)})")


def default_export_path(directory: Path, fmt: str, split: str) -> Path:
    """``<run dir>/<split>_<format>.parquet``, or ``citations_<split>.parquet``."""
    if fmt == "citations":
        return directory / f"citations_{split}.parquet"
    if fmt == "texts":
        return directory / "texts.parquet"
    return directory / f"{split}_{fmt}.parquet"


def build_rows(
    fmt: str, pairs: Sequence[Mapping[str, Any]], texts: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rows of a ``pairs`` / ``triplets`` / ``labelled`` export of ``pairs`` (one split)."""
    skipped: dict[str, int] = defaultdict(int)
    rows: list[dict[str, Any]] = []
    positives = [p for p in pairs if int(p["label"]) == 1]
    if fmt == "pairs":
        for p in positives:
            a, b = str(p["pmid_a"]), str(p["pmid_b"])
            if a in texts and b in texts:
                rows.append(
                    {"anchor": texts[a], "positive": texts[b], "anchor_pmid": a, "positive_pmid": b}
                )
            else:
                skipped["no_text"] += 1
    elif fmt == "labelled":
        for p in pairs:
            a, b = str(p["pmid_a"]), str(p["pmid_b"])
            if a in texts and b in texts:
                rows.append(
                    {
                        "text1": texts[a],
                        "text2": texts[b],
                        "label": int(p["label"]),
                        "pmid_a": a,
                        "pmid_b": b,
                        "strategy": p["strategy"],
                        "score": float(p["score"]),
                    }
                )
            else:
                skipped["no_text"] += 1
    elif fmt == "triplets":
        negatives_of: dict[str, list[str]] = defaultdict(list)
        for p in pairs:
            if int(p["label"]) == 0:
                a, b = str(p["pmid_a"]), str(p["pmid_b"])
                negatives_of[a].append(b)
                negatives_of[b].append(a)
        used: dict[str, int] = defaultdict(int)
        for p in positives:
            a, b = str(p["pmid_a"]), str(p["pmid_b"])
            anchor, positive = (a, b) if negatives_of.get(a) else (b, a)
            options = negatives_of.get(anchor)
            if not options:
                skipped["no_negative"] += 1
                continue
            n = options[used[anchor] % len(options)]
            used[anchor] += 1
            if anchor in texts and positive in texts and n in texts:
                rows.append(
                    {
                        "anchor": texts[anchor],
                        "positive": texts[positive],
                        "negative": texts[n],
                        "anchor_pmid": anchor,
                        "positive_pmid": positive,
                        "negative_pmid": n,
                    }
                )
            else:
                skipped["no_text"] += 1
    else:
        raise PairingError(f"unknown export format '{fmt}'")
    return rows, dict(skipped)


def write_table(rows: Sequence[Mapping[str, Any]], path: Path, columns: Sequence[str]) -> None:
    """Write rows as Parquet, or CSV when ``path`` ends in ``.csv``."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(list(rows), columns=list(columns))
    if path.suffix.lower() == ".csv":
        if "relevant_pmids" in frame:
            frame["relevant_pmids"] = frame["relevant_pmids"].map(" ".join)
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


COLUMNS: dict[str, tuple[str, ...]] = {
    "pairs": ("anchor", "positive", "anchor_pmid", "positive_pmid"),
    "triplets": ("anchor", "positive", "negative", "anchor_pmid", "positive_pmid", "negative_pmid"),
    "labelled": ("text1", "text2", "label", "pmid_a", "pmid_b", "strategy", "score"),
    "citations": ("pmid", "relevant_pmids"),
    "texts": ("pmid", "title", "abstract", "text", "split"),
}


def export_run(
    driver: GraphDB,
    run: Mapping[str, Any] | str | Path,
    fmt: str,
    split: str,
    out: str | Path | None = None,
    *,
    batch_size: int = 1000,
) -> ExportSummary:
    """Export one split of a run (a ``PairRun`` dict or the run directory) as ``fmt``."""
    _check(fmt, split)
    directory = run_dir(run)
    path = Path(out) if out is not None else default_export_path(directory, fmt, split)
    if fmt == "citations":
        members = sorted(p for p, s in read_splits(directory).items() if s == split)
        lists = citation_lists(driver, members, batch_size=batch_size)
        rows: list[dict[str, Any]] = [{"pmid": p, "relevant_pmids": r} for p, r in lists.items()]
        write_table(rows, path, COLUMNS[fmt])
        return ExportSummary(
            path, fmt, split, len(rows), {"articles_without_relevant": len(members) - len(rows)}
        )
    if fmt == "texts":
        split_of = read_splits(directory)
        wanted = {x for p in read_pairs(directory) for x in (str(p["pmid_a"]), str(p["pmid_b"]))}
        wanted |= {p for p, s in split_of.items() if s == split}
        cite_file = default_export_path(directory, "citations", split)
        if cite_file.exists():
            import pandas as pd

            held = pd.read_parquet(cite_file, columns=["relevant_pmids"])["relevant_pmids"]
            wanted |= {str(x) for rel in held for x in rel}
        found = fetch_articles(driver, sorted(wanted), batch_size=batch_size)
        rows = []
        for pmid, (title, abstract) in sorted(found.items()):
            text = article_text(title, abstract)
            if text:
                rows.append(
                    {
                        "pmid": pmid,
                        "title": title,
                        "abstract": abstract,
                        "text": text,
                        "split": split_of.get(pmid),
                    }
                )
        write_table(rows, path, COLUMNS[fmt])
        return ExportSummary(path, fmt, split, len(rows), {"no_text": len(wanted) - len(rows)})
    pairs = [p for p in read_pairs(directory) if p["split"] == split]
    needed = [x for p in pairs for x in (str(p["pmid_a"]), str(p["pmid_b"]))]
    texts = fetch_texts(driver, needed, batch_size=batch_size)
    rows, skipped = build_rows(fmt, pairs, texts)
    write_table(rows, path, COLUMNS[fmt])
    return ExportSummary(path, fmt, split, len(rows), skipped)


#: What ``export_all`` writes, in order: (format, split).
ALL_EXPORTS: tuple[tuple[str, str], ...] = (
    *((fmt, split) for split in SPLITS for fmt in ("pairs", "triplets", "labelled")),
    ("citations", "validation"),
    ("citations", "test"),
    ("texts", "test"),
)


def export_all(
    driver: GraphDB,
    run: Mapping[str, Any] | str | Path,
    *,
    batch_size: int = 1000,
    on_done: Callable[[ExportSummary], None] | None = None,
) -> list[ExportSummary]:
    """Every format of every split into the run directory (default file names), plus
    ``texts.parquet`` (test split in full) and ``citations_<split>.parquet``.
    ``on_done`` is called after each file (for a progress bar)."""
    out = []
    for fmt, split in ALL_EXPORTS:
        summary = export_run(driver, run, fmt, split, batch_size=batch_size)
        out.append(summary)
        if on_done is not None:
            on_done(summary)
    return out
