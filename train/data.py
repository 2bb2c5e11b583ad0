"""Readers for the pair files pairing writes, and the datasets each loss trains on.

Files (Parquet, CSV or TSV) come in four shapes, recognised by their columns:

* ``graph``: pairing's pair file ``pmid_a, pmid_b, label, strategy, score, split``; the
  texts come from a texts file (``pmid`` plus ``title``/``abstract`` or ``text``).
* ``labelled``: ``text1, text2, label`` (+ ``pmid_a, pmid_b``, ``split``).
* ``triplets``: ``anchor, positive, negative`` (+ pmid columns, ``split``).
* ``positives``: ``anchor, positive`` (+ pmid columns, ``split``).

Every shape becomes a :class:`PairTable` of texts; :func:`build_dataset` turns one into
the ``datasets.Dataset`` columns a loss expects (label column last, named ``label``/``score``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pubgraph.core.contracts import RUN_FILE_NAMES, article_text
from pubgraph.core.errors import InputError, TrainingError

if TYPE_CHECKING:
    import pandas as pd
    from datasets import Dataset

GRAPH_COLUMNS = ("pmid_a", "pmid_b", "label")
LABELLED_COLUMNS = ("text1", "text2", "label")
TRIPLET_COLUMNS = ("anchor", "positive", "negative")
POSITIVE_COLUMNS = ("anchor", "positive")
TEXTS_FILE_NAMES = ("texts.parquet", "articles.parquet", "texts.csv", "articles.csv")
RUN_ID_KEYS = ("pair_run_id", "run_id", "id")


@dataclass(frozen=True)
class PairTable:
    """Text pairs read from one file (one split of it).

    ``kind`` is ``labelled`` (frame columns text1, text2, label), ``triplets`` (anchor,
    positive, negative) or ``positives`` (anchor, positive); pmid columns are kept when
    the file has them.
    """

    kind: str
    frame: pd.DataFrame
    source: str
    split: str | None = None
    dropped: int = 0
    pair_run_id: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def texts(self) -> list[str]:
        """Every distinct text of the table, in first-seen order."""
        cols = [c for c in ("text1", "text2", *TRIPLET_COLUMNS) if c in self.frame.columns]
        seen: dict[str, None] = {}
        for col in cols:
            for text in self.frame[col]:
                seen.setdefault(text, None)
        return list(seen)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet, CSV or TSV file into a DataFrame (CSV: the csv module's default quoting)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError("file does not exist", file=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".tsv", ".tab"):
            return pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False)
        return pd.read_csv(p, dtype=str, keep_default_na=False)
    except Exception as exc:  # pyarrow/pandas raise many types for a broken file
        raise InputError(f"cannot read ({type(exc).__name__}: {exc})", file=str(p)) from None


def detect_kind(columns: Any, source: str = "") -> str:
    """``graph``, ``labelled``, ``triplets`` or ``positives`` from a file's column names."""
    cols = set(columns)
    if set(LABELLED_COLUMNS) <= cols:
        return "labelled"
    if set(TRIPLET_COLUMNS) <= cols:
        return "triplets"
    if set(POSITIVE_COLUMNS) <= cols:
        return "positives"
    if set(GRAPH_COLUMNS) <= cols:
        return "graph"
    raise InputError(
        "unrecognised pair file: expected columns (pmid_a, pmid_b, label), (text1, text2,"
        " label), (anchor, positive, negative) or (anchor, positive); found "
        + ", ".join(map(str, columns)),
        file=source or None,
    )


def _clean_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return " ".join(str(value).split())


def _pmid(value: Any) -> str:
    text = _clean_text(value)
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def read_texts(path: str | Path) -> pd.DataFrame:
    """Article texts, indexed by pmid (str), with columns ``title``, ``abstract``, ``text``
    (and ``split`` when the file has one, as pairing's ``texts.parquet`` does).

    The file has ``pmid`` and either ``title`` (+ ``abstract``) or ``text``; ``text`` is
    ``title. abstract`` when the file does not give it.
    """
    import pandas as pd

    frame = read_table(path)
    if "pmid" not in frame.columns:
        raise InputError("texts file needs a pmid column", file=str(path), field="pmid")
    if "text" not in frame.columns and "title" not in frame.columns:
        raise InputError("texts file needs a title or text column", file=str(path), field="text")
    pmids = [_pmid(v) for v in frame["pmid"]]
    titles = [_clean_text(v) for v in frame.get("title", [""] * len(frame))]
    abstracts = [_clean_text(v) for v in frame.get("abstract", [""] * len(frame))]
    if "text" in frame.columns:
        texts = [_clean_text(v) for v in frame["text"]]
    else:
        texts = [article_text(t, a) for t, a in zip(titles, abstracts, strict=True)]
    columns = {"title": titles, "abstract": abstracts, "text": texts}
    if "split" in frame.columns:
        columns["split"] = [_clean_text(v) for v in frame["split"]]
    out = pd.DataFrame(columns, index=pd.Index(pmids, name="pmid"))
    out = out[out["text"] != ""]
    return out[~out.index.duplicated(keep="first")]


def find_texts_file(pair_file: str | Path) -> Path | None:
    """A texts file beside ``pair_file`` (``texts.parquet``, ``articles.parquet``, ...)."""
    folder = Path(pair_file).parent
    for name in TEXTS_FILE_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def find_pair_run_id(path: str | Path, frame: pd.DataFrame | None = None) -> str | None:
    """The PairRun id a pair file came from: a ``run_id``/``pair_run_id`` column with one
    value, Parquet metadata ``pair_run_id``, or a ``pair_run.json``/``run.json`` beside it."""
    p = Path(path)
    if frame is not None:
        for col in ("pair_run_id", "run_id"):
            if col in frame.columns:
                values = {str(v) for v in frame[col].dropna().unique()}
                if len(values) == 1:
                    return values.pop()
    if p.suffix.lower() in (".parquet", ".pq") and p.is_file():
        try:
            import pyarrow.parquet as pq

            meta = pq.read_schema(p).metadata or {}
        except Exception:
            meta = {}
        for meta_key in (b"pair_run_id", b"pubgraph.pair_run_id", b"run_id"):
            if meta_key in meta:
                return str(meta[meta_key].decode("utf-8"))
    for name in RUN_FILE_NAMES:
        run_file = p.parent / name
        if run_file.is_file():
            try:
                data = json.loads(run_file.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(data, dict):
                for key in RUN_ID_KEYS:
                    if data.get(key):
                        return str(data[key])
    return None


def parse_labels(values: Any, source: str, offset: int = 0) -> list[int]:
    """Labels as 0/1 ints; anything else raises InputError naming the row and field."""
    out = []
    for i, value in enumerate(values):
        text = _clean_text(value)
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number not in (0.0, 1.0):
            raise InputError(
                f"label must be 0 or 1, got {text!r}", file=source, record=f"row {i + offset + 1}",
                field="label",
            )
        out.append(int(number))
    return out


def split_names(path: str | Path) -> list[str]:
    """The distinct values of a file's ``split`` column (empty when it has none)."""
    frame = read_table(path)
    if "split" not in frame.columns:
        return []
    return sorted({str(v) for v in frame["split"]})


def load_pairs(
    path: str | Path,
    *,
    split: str | None = None,
    texts_file: str | Path | None = None,
    strategies: tuple[str, ...] = (),
    limit: int | None = None,
    seed: int = 42,
    require_split: bool = True,
) -> PairTable:
    """Read one split of a pair file as texts.

    ``split`` selects rows of the ``split`` column; a file without that column is used
    whole. With ``require_split`` false a missing split gives an empty table instead of
    an error. ``strategies`` keeps only those pairing strategies (graph files). ``limit``
    keeps a seeded random sample of that many rows. Rows whose texts are missing are
    dropped and counted in ``dropped``.
    """
    import pandas as pd

    source = str(path)
    frame = read_table(path)
    kind = detect_kind(frame.columns, source)
    run_id = find_pair_run_id(path, frame)
    if split is not None and "split" in frame.columns:
        available = sorted({str(v) for v in frame["split"]})
        frame = frame[frame["split"].astype(str) == split]
        if frame.empty and require_split:
            raise TrainingError(
                f"{source}: no rows with split {split!r} (splits present: {', '.join(available)})"
            )
    if strategies and "strategy" in frame.columns:
        frame = frame[frame["strategy"].astype(str).isin(strategies)]
        if frame.empty:
            raise TrainingError(f"{source}: no rows for strategies {', '.join(strategies)}")
    frame = frame.reset_index(drop=True)
    before = len(frame)

    if kind == "graph":
        tfile = Path(texts_file) if texts_file else find_texts_file(path)
        if tfile is None:
            raise TrainingError(
                f"{source}: a pmid pair file needs article texts: set texts_file (pmid, title,"
                f" abstract) or put one of {', '.join(TEXTS_FILE_NAMES)} beside it"
            )
        texts = read_texts(tfile)["text"].to_dict()
        a = [_pmid(v) for v in frame["pmid_a"]]
        b = [_pmid(v) for v in frame["pmid_b"]]
        out = pd.DataFrame(
            {
                "text1": [texts.get(x, "") for x in a],
                "text2": [texts.get(x, "") for x in b],
                "label": parse_labels(frame["label"], source),
                "pmid_a": a,
                "pmid_b": b,
            }
        )
        kind = "labelled"
    elif kind == "labelled":
        out = pd.DataFrame(
            {
                "text1": [_clean_text(v) for v in frame["text1"]],
                "text2": [_clean_text(v) for v in frame["text2"]],
                "label": parse_labels(frame["label"], source),
            }
        )
        for col in ("pmid_a", "pmid_b"):
            if col in frame.columns:
                out[col] = [_pmid(v) for v in frame[col]]
    else:
        cols = TRIPLET_COLUMNS if kind == "triplets" else POSITIVE_COLUMNS
        out = pd.DataFrame({c: [_clean_text(v) for v in frame[c]] for c in cols})
        for col in frame.columns:
            if "pmid" in str(col):
                out[col] = [_pmid(v) for v in frame[col]]
    text_cols = [c for c in ("text1", "text2", *TRIPLET_COLUMNS) if c in out.columns]
    keep = (out[text_cols] != "").all(axis=1)
    out = out[keep].reset_index(drop=True)
    if limit is not None and len(out) > limit:
        out = out.sample(n=limit, random_state=seed).reset_index(drop=True)
    return PairTable(kind, out, source, split, before - int(keep.sum()), run_id)


def add_title_abstract(
    table: PairTable, texts_file: str | Path, n: int, *, split: str | None, seed: int = 42
) -> PairTable:
    """``table`` plus ``n`` (title, abstract) positive pairs of a seeded sample of the
    ``split`` articles of ``texts_file`` (every article when the file has no ``split``):
    the in-domain title -> abstract pairs the seed embeddings train on, mixed with the
    graph pairs. Only for labelled tables (pairing's files); pmid columns the table lacks
    are left out, other columns are empty."""
    import pandas as pd

    if table.kind != "labelled":
        raise TrainingError(
            f"{table.source}: title_abstract_pairs needs a labelled pair file (pairing's "
            f"pmid_a, pmid_b, label), not {table.kind}"
        )
    texts = read_texts(texts_file)
    if split is not None and "split" in texts.columns:
        texts = texts[texts["split"] == split]
    texts = texts[(texts["title"] != "") & (texts["abstract"] != "")]
    if texts.empty:
        raise TrainingError(
            f"{texts_file}: no article with both a title and an abstract"
            + (f" in split {split!r}" if split else "")
            + " for title_abstract_pairs"
        )
    if len(texts) > n:
        texts = texts.sample(n=n, random_state=seed)
    pmids = [str(i) for i in texts.index]
    extra = pd.DataFrame({"text1": list(texts["title"]), "text2": list(texts["abstract"]),
                          "label": [1] * len(texts), "pmid_a": pmids, "pmid_b": pmids})
    for col in table.frame.columns:
        if col not in extra.columns:
            extra[col] = None
    frame = pd.concat([table.frame, extra[list(table.frame.columns)]], ignore_index=True)
    return dataclasses.replace(table, frame=frame)


# -- datasets per loss -----------------------------------------------------------------------

PAIR_SCORE_LOSSES = ("cosine",)
PAIR_LABEL_LOSSES = ("contrastive", "online_contrastive")
RANKING_LOSSES = ("mnrl", "cached_mnrl")


def _labelled_rows(table: PairTable) -> tuple[list[str], list[str], list[int]]:
    f = table.frame
    if table.kind == "labelled":
        return list(f["text1"]), list(f["text2"]), [int(x) for x in f["label"]]
    if table.kind == "triplets":
        n = len(f)
        return (
            list(f["anchor"]) + list(f["anchor"]),
            list(f["positive"]) + list(f["negative"]),
            [1] * n + [0] * n,
        )
    raise TrainingError(
        f"{table.source}: this loss needs labelled pairs or triplets, but the file has only "
        "positive pairs (anchor, positive): use loss mnrl or cached_mnrl"
    )


def random_negatives(
    anchors: list[str], positives: list[str], pool: list[str], seed: int
) -> list[str]:
    """For each (anchor, positive) a seeded random text from ``pool`` that is neither the
    anchor nor any positive of that anchor."""
    related: dict[str, set[str]] = {}
    for a, p in zip(anchors, positives, strict=True):
        related.setdefault(a, {a}).add(p)
    rng = random.Random(seed)
    distinct = list(dict.fromkeys(pool))
    out = []
    for a in anchors:
        banned = related[a]
        if len(distinct) <= len(banned):
            raise TrainingError("too few distinct texts to draw negatives from")
        while True:
            cand = distinct[rng.randrange(len(distinct))]
            if cand not in banned:
                out.append(cand)
                break
    return out


def triplet_rows(
    table: PairTable, *, seed: int = 42, hard_only: bool = False
) -> tuple[list[str], list[str], list[str] | None]:
    """(anchors, positives, negatives) for triplet and ranking losses.

    Triplet files give their negatives. Labelled files give their label-1 pairs with, as
    negative, a label-0 partner of the same anchor where there is one (a hard negative)
    and otherwise a seeded random text of the file. With ``hard_only`` and no same-anchor
    negative anywhere, negatives are None.
    """
    f = table.frame
    if table.kind == "triplets":
        return list(f["anchor"]), list(f["positive"]), list(f["negative"])
    if table.kind == "positives":
        anchors, positives = list(f["anchor"]), list(f["positive"])
        if hard_only:
            return anchors, positives, None
        pool = anchors + positives
        return anchors, positives, random_negatives(anchors, positives, pool, seed)
    pos = f[f["label"] == 1]
    neg = f[f["label"] == 0]
    anchors, positives = list(pos["text1"]), list(pos["text2"])
    if not anchors:
        raise TrainingError(f"{table.source}: no label-1 pairs to train on")
    same_anchor: dict[str, list[str]] = {}
    for a, b in zip(neg["text1"], neg["text2"], strict=True):
        same_anchor.setdefault(a, []).append(b)
    if hard_only and not any(a in same_anchor for a in anchors):
        return anchors, positives, None
    pool = list(f["text1"]) + list(f["text2"])
    fallback = random_negatives(anchors, positives, pool, seed)
    used: dict[str, int] = {}
    negatives = []
    for a, rand in zip(anchors, fallback, strict=True):
        options = same_anchor.get(a)
        if options:
            i = used.get(a, 0)
            negatives.append(options[i % len(options)])
            used[a] = i + 1
        else:
            negatives.append(rand)
    return anchors, positives, negatives


def dataset_columns(
    table: PairTable, loss: str, *, negative_target: float = 0.0, hard_negatives: bool = True,
    seed: int = 42,
) -> dict[str, list[Any]]:
    """The columns (in input order, label last) that ``loss`` trains on, as plain lists."""
    if loss in PAIR_SCORE_LOSSES:
        t1, t2, labels = _labelled_rows(table)
        scores = [1.0 if y == 1 else float(negative_target) for y in labels]
        return {"sentence1": t1, "sentence2": t2, "score": scores}
    if loss in PAIR_LABEL_LOSSES:
        t1, t2, labels = _labelled_rows(table)
        return {"sentence1": t1, "sentence2": t2, "label": labels}
    if loss == "triplet":
        a, p, n = triplet_rows(table, seed=seed)
        assert n is not None
        return {"anchor": a, "positive": p, "negative": n}
    if loss in RANKING_LOSSES:
        a, p, n = triplet_rows(table, seed=seed, hard_only=True)
        if hard_negatives and n is not None:
            return {"anchor": a, "positive": p, "negative": n}
        return {"anchor": a, "positive": p}
    raise TrainingError(f"unknown loss {loss!r}")


def build_dataset(
    table: PairTable, loss: str, *, negative_target: float = 0.0, hard_negatives: bool = True,
    seed: int = 42,
) -> Dataset:
    """A ``datasets.Dataset`` with the columns ``loss`` expects (see :func:`dataset_columns`)."""
    from datasets import Dataset

    cols = dataset_columns(
        table, loss, negative_target=negative_target, hard_negatives=hard_negatives, seed=seed
    )
    if not next(iter(cols.values())):
        raise TrainingError(f"{table.source}: no training examples for loss {loss}")
    return Dataset.from_dict(cols)
