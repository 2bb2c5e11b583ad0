"""The contracts between packages: what one writes and another reads, declared once.

pairing, train, embeddings and analysis never import each other; they meet in the graph or
in files. What those files and texts look like lives here, so that the model is trained on
exactly the text it is later queried with, and every reader of a pair run finds the same
files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pubgraph.core.errors import ConfigError, InputError

# --- the article's text -------------------------------------------------------------------

TextMode = Literal["title+abstract", "title", "abstract"]
TEXT_MODES: tuple[str, ...] = ("title+abstract", "title", "abstract")
_SENTENCE_END = (".", "?", "!")


def article_text(
    title: str | None, abstract: str | None, mode: str = "title+abstract"
) -> str:
    """The one text of an article that is trained on, encoded and searched.

    ``title + ". " + abstract``; a title that already ends a sentence (``.``, ``?``, ``!``)
    keeps its own mark (``"Is X safe? Abstract"``, never ``"Is X safe?. Abstract"``).
    Either part alone when the other is missing; ``""`` when the article has neither.
    ``mode`` selects ``title`` or ``abstract`` alone.
    """
    if mode not in TEXT_MODES:
        raise ConfigError(f"unknown text mode {mode!r} (use one of {', '.join(TEXT_MODES)})")
    t = (title or "").strip() if mode != "abstract" else ""
    a = (abstract or "").strip() if mode != "title" else ""
    if t and a:
        joiner = " " if t.endswith(_SENTENCE_END) else ". "
        return f"{t}{joiner}{a}"
    return t or a


# --- a pairing run's folder ---------------------------------------------------------------
# pairing writes these; train (training, evaluation, GNN) reads them.

PAIRS_FILE = "pairs.parquet"
"""``pmid_a, pmid_b, label, strategy, score, split`` (label 1 positive, 0 negative)."""
SPLITS_FILE = "splits.parquet"
"""``pmid, year, split`` of every text article that has a split."""
RUN_FILE = "run.json"
"""The run's manifest: ``run_id``, config, graph fingerprint, counts."""
TEXTS_FILE = "texts.parquet"
"""``pmid, title, abstract, text, split`` of the run's articles (``pairs export``)."""
CITATIONS_TEST_FILE = "citations_test.parquet"
"""Held-out citation lists of test-split articles (``pairs export``)."""
RUN_FILE_NAMES = ("pair_run.json", RUN_FILE, "manifest.json")
"""Manifest names a pair file's folder may hold (``pair_run.json`` from older exports)."""


def pair_run_file(run_dir: str | Path, name: str) -> Path:
    """``run_dir/name``, or an error naming the missing file and the command that writes it."""
    path = Path(run_dir)
    target = path / name if path.is_dir() or not path.suffix else path.parent / name
    if not target.is_file():
        raise InputError(
            f"{target}: not found; a pairing run folder holds {PAIRS_FILE}, {SPLITS_FILE} and "
            f"{RUN_FILE} (`pubgraph pairs run --out DIR`)"
        )
    return target


def resolve_pair_run(run: str | Path, pairs_root: str | Path) -> Path:
    """A pairing run's folder from what a user typed: a folder, its pair file, or a run id
    (or a unique id prefix) under ``pairs_root`` (``<data_dir>/pairs``, where ``pubgraph
    pairs run`` writes without ``--out``). Errors name what was looked for."""
    path = Path(run).expanduser()
    if path.is_dir():
        return path
    if path.is_file():
        return path.parent
    root = Path(pairs_root)
    name = str(run)
    if "/" not in name and root.is_dir():
        hits = sorted(d for d in root.iterdir() if d.is_dir() and d.name.startswith(name))
        exact = [d for d in hits if d.name == name]
        if exact or len(hits) == 1:
            return (exact or hits)[0]
        if len(hits) > 1:
            raise InputError(
                f"pair run {name!r} is ambiguous under {root}: "
                + ", ".join(d.name for d in hits[:5])
            )
    raise InputError(
        f"pair run {name!r} not found: not a folder, nor a run id under {root} "
        f"(write one with `pubgraph pairs run --out {name if '/' in name else 'DIR'}`)"
    )


def read_splits(run_dir: str | Path) -> dict[str, str]:
    """``pmid -> split`` from a pairing run's ``splits.parquet`` (rows without a split dropped)."""
    import pyarrow.parquet as pq

    path = pair_run_file(run_dir, SPLITS_FILE)
    table = pq.read_table(path)
    if not {"pmid", "split"} <= set(table.column_names):
        raise InputError(f"{path}: expected columns pmid, split; found {table.column_names}")
    return {
        str(p): str(s)
        for p, s in zip(
            table.column("pmid").to_pylist(), table.column("split").to_pylist(), strict=True
        )
        if s
    }


def read_run_manifest(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``run.json`` as a dict ({} when the folder has none)."""
    for name in RUN_FILE_NAMES:
        path = Path(run_dir) / name
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: not valid JSON ({exc})") from None
            return data if isinstance(data, dict) else {}
    return {}


# --- the records file (ingest writes it, graph loads it) ------------------------------------

RECORD_COLUMNS: tuple[str, ...] = (
    "record_type",  # "article" | "deletion"
    "pmid",
    "title",
    "abstract",
    "abstract_sections",
    "language",
    "year",
    "month",
    "day",
    "pub_date",
    "medline_date",
    "journal_id",
    "journal_title",
    "journal_iso",
    "journal_issn",
    "doi",
    "pmcid",
    "authors",
    "mesh",
    "chemicals",
    "keywords",
    "publication_types",
    "references",
    "body",
    "source",
    "source_file",
)
"""The columns of a records Parquet file, in order: ``ingest.records.RECORD_SCHEMA`` is
built with exactly these names and ``graph.loader`` reads them."""
