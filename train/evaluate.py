"""Evaluation tasks: each one scores a model and returns ``{metric: value}``.

Tasks are built once (data read up front) and then run on several models, so the base
and the fine-tuned model see exactly the same inputs.

* labelled pairs (a pair file's test split, any ``text1,text2,label`` CSV): ROC-AUC,
  average precision and Spearman of the cosine against the label;
* citation prediction (SciDocs style): each test article ranks its citation-related
  articles (at most ``max_positives``) among ``n_negatives`` seeded random articles;
  MAP and nDCG@10;
* title -> abstract retrieval among test-split articles (sampled titles, every test-split
  abstract a candidate), and PubMedQA question -> long
  answer: sentence-transformers' InformationRetrievalEvaluator (acc@k, MRR@10,
  NDCG@10, MAP@100);
* BIOSSES: Spearman (and Pearson) of cosine against the gold score, all 100 pairs,
  with sentence-transformers' EmbeddingSimilarityEvaluator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pubgraph.core.contracts import CITATIONS_TEST_FILE, PAIRS_FILE
from pubgraph.train import metrics
from pubgraph.train.benchmarks import RetrievalSet, ScoredPairs, read_biosses, read_pubmedqa
from pubgraph.train.config import MAX_EVAL_PAIRS, MAX_EVAL_QUERIES
from pubgraph.train.data import PairTable, find_texts_file, load_pairs, read_table, read_texts

if TYPE_CHECKING:
    import pandas as pd
    from sentence_transformers import SentenceTransformer

ENCODE_BATCH = 32
IR_METRICS = ("accuracy@1", "accuracy@3", "accuracy@5", "accuracy@10", "mrr@10", "ndcg@10",
              "map@100")
PAIR_FILE_NAMES = (PAIRS_FILE, "pairs.csv")
CITATION_FILE_NAMES = (CITATIONS_TEST_FILE, "citations_test.csv")


@dataclass(frozen=True)
class EvalTask:
    """A named evaluation: ``run(model)`` returns metric name -> value."""

    name: str
    description: str
    run: Callable[[SentenceTransformer], dict[str, float]] = field(repr=False)
    size: int = 0


def encode(model: SentenceTransformer, texts: list[str], *, progress: bool = False) -> np.ndarray:
    """Unit-normalised embeddings of ``texts`` (numpy, one row per text)."""
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    emb = model.encode(
        texts, batch_size=ENCODE_BATCH, normalize_embeddings=True, convert_to_numpy=True,
        show_progress_bar=progress,
    )
    return np.asarray(emb, dtype=np.float32)


def encode_unique(
    model: SentenceTransformer, texts: Iterable[str], *, progress: bool = False
) -> dict[str, np.ndarray]:
    """Each distinct text encoded once: text -> embedding."""
    distinct = list(dict.fromkeys(texts))
    emb = encode(model, distinct, progress=progress)
    return dict(zip(distinct, emb, strict=True))


# -- labelled pairs -------------------------------------------------------------------------


def pair_cosines(model: SentenceTransformer, text1: list[str], text2: list[str]) -> np.ndarray:
    """Cosine of each (text1[i], text2[i]), encoding every distinct text once."""
    vectors = encode_unique(model, [*text1, *text2])
    a = np.stack([vectors[t] for t in text1])
    b = np.stack([vectors[t] for t in text2])
    return metrics.cosine_rows(a, b)


def labelled_pairs_task(name: str, table: PairTable, description: str = "") -> EvalTask:
    """AUC, AP and Spearman of cosine vs label on a labelled PairTable."""
    if table.kind != "labelled":
        raise ValueError(f"{table.source}: labelled pairs needed, got {table.kind}")
    t1 = list(table.frame["text1"])
    t2 = list(table.frame["text2"])
    labels = [int(x) for x in table.frame["label"]]

    def run(model: SentenceTransformer) -> dict[str, float]:
        return metrics.pair_metrics(list(pair_cosines(model, t1, t2)), labels)

    desc = description or f"{Path(table.source).name}: {len(labels)} labelled pairs"
    return EvalTask(name, desc, run, len(labels))


# -- citation prediction --------------------------------------------------------------------


def citation_candidates(
    queries: Iterable[str],
    relevant: dict[str, set[str]],
    pool: Iterable[str],
    *,
    n_negatives: int = 25,
    max_positives: int = 5,
    seed: int = 42,
) -> dict[str, tuple[list[str], list[str]]]:
    """For each query: (its relevant ids that are in the pool, at most ``max_positives``,
    smallest first; ``n_negatives`` seeded random pool ids that are neither relevant nor the
    query). Queries with no relevant id in the pool are left out."""
    pool_ids = sorted(set(pool))
    pool_set = set(pool_ids)
    out: dict[str, tuple[list[str], list[str]]] = {}
    for q in queries:
        rel_all = set(relevant.get(q, set())) - {q}
        rel = sorted(r for r in rel_all if r in pool_set)[:max_positives]
        if not rel:
            continue
        banned = rel_all | {q}
        rng = random.Random(f"{seed}:{q}")
        eligible_count = len(pool_set - banned)
        take = min(n_negatives, eligible_count)
        negatives: list[str] = []
        if take:
            draw = rng.sample(pool_ids, min(len(pool_ids), take + len(banned)))
            negatives = [c for c in draw if c not in banned][:take]
        out[q] = (rel, negatives)
    return out


def citation_task(
    name: str,
    query_texts: dict[str, str],
    relevant: dict[str, set[str]],
    pool_texts: dict[str, str],
    *,
    n_negatives: int = 25,
    max_positives: int = 5,
    seed: int = 42,
) -> EvalTask:
    """MAP and nDCG@10 of ranking each query's true citations among random candidates."""
    cands = citation_candidates(
        query_texts, relevant, pool_texts, n_negatives=n_negatives, max_positives=max_positives,
        seed=seed,
    )

    def run(model: SentenceTransformer) -> dict[str, float]:
        needed = [query_texts[q] for q in cands]
        for rel, neg in cands.values():
            needed.extend(pool_texts[c] for c in (*rel, *neg))
        vectors = encode_unique(model, needed)
        aps, ndcgs, rrs = [], [], []
        for q, (rel, neg) in cands.items():
            ids = [*rel, *neg]
            qv = vectors[query_texts[q]]
            scores = [float(np.dot(qv, vectors[pool_texts[c]])) for c in ids]
            ranked = metrics.rank_relevance(scores, [1] * len(rel) + [0] * len(neg))
            aps.append(metrics.average_precision(ranked))
            ndcgs.append(metrics.ndcg_at_k(ranked, 10))
            rrs.append(metrics.reciprocal_rank(ranked))
        return {
            "map": metrics.mean(aps), "ndcg@10": metrics.mean(ndcgs), "mrr": metrics.mean(rrs),
            "n": float(len(cands)),
        }

    desc = (f"{len(cands)} test articles; citation-related (<= {max_positives}) vs "
            f"{n_negatives} random articles each, seed {seed}")
    return EvalTask(name, desc, run, len(cands))


# -- retrieval ------------------------------------------------------------------------------


def _ir_scores(result: dict[str, float], name: str) -> dict[str, float]:
    out = {}
    for metric in IR_METRICS:
        key = f"{name}_cosine_{metric}"
        if key in result:
            out[metric.replace("accuracy", "acc")] = float(result[key])
    return out


def retrieval_task(name: str, data: RetrievalSet, description: str = "") -> EvalTask:
    """acc@1/3/5/10, MRR@10, NDCG@10, MAP@100 via InformationRetrievalEvaluator."""

    def run(model: SentenceTransformer) -> dict[str, float]:
        from pubgraph.train.st import evaluation

        evaluator = evaluation.InformationRetrievalEvaluator(
            queries=dict(data.queries), corpus=dict(data.corpus),
            relevant_docs=data.relevant, name=name,
            batch_size=ENCODE_BATCH, write_csv=False, show_progress_bar=False,
        )
        out = _ir_scores(evaluator(model), name)
        out["n"] = float(len(data.queries))
        return out

    desc = description or f"{len(data.queries)} queries, {len(data.corpus)} documents"
    return EvalTask(name, desc, run, len(data.queries))


def title_abstract_set(articles: pd.DataFrame, pmids: Iterable[str] | None = None) -> RetrievalSet:
    """Title -> abstract retrieval among ``articles`` (restricted to ``pmids``) that have both."""
    frame = articles if pmids is None else articles[articles.index.isin(set(pmids))]
    frame = frame[(frame["title"] != "") & (frame["abstract"] != "")]
    ids = [str(i) for i in frame.index]
    return RetrievalSet(
        dict(zip(ids, frame["title"], strict=True)),
        dict(zip(ids, frame["abstract"], strict=True)),
        {i: {i} for i in ids},
    )


# -- benchmarks -----------------------------------------------------------------------------


def similarity_task(name: str, data: ScoredPairs, description: str = "") -> EvalTask:
    """Spearman and Pearson of cosine vs gold score (EmbeddingSimilarityEvaluator)."""

    def run(model: SentenceTransformer) -> dict[str, float]:
        from pubgraph.train.st import evaluation

        evaluator = evaluation.EmbeddingSimilarityEvaluator(
            data.sentences1, data.sentences2, data.scores, name=name, write_csv=False,
            batch_size=ENCODE_BATCH,
        )
        result = evaluator(model)
        return {
            "spearman": float(result[f"{name}_spearman_cosine"]),
            "pearson": float(result[f"{name}_pearson_cosine"]),
            "n": float(len(data)),
        }

    return EvalTask(name, description or f"{len(data)} scored pairs", run, len(data))


def biosses_task(folder: str | Path) -> EvalTask:
    """BIOSSES, all 100 pairs (train + dev + test)."""
    data = read_biosses(folder)
    return similarity_task("biosses", data, f"all {len(data)} pairs (train+dev+test)")


def pubmedqa_task(path: str | Path, limit: int | None = None) -> EvalTask:
    """PubMedQA labelled set: question -> long answer among all long answers."""
    data = read_pubmedqa(path)
    if limit is not None:
        keys = sorted(data.queries)[:limit]
        data = RetrievalSet(
            {k: data.queries[k] for k in keys}, {k: data.corpus[k] for k in keys},
            {k: {k} for k in keys},
        )
    return retrieval_task(
        "pubmedqa", data, f"{len(data.queries)} questions -> {len(data.corpus)} long answers"
    )


def csv_task(path: str | Path, name: str | None = None) -> EvalTask:
    """AUC/AP/Spearman on any labelled pair file (text1, text2, label)."""
    table = load_pairs(path)
    return labelled_pairs_task(name or f"csv:{Path(path).stem}", table)


# -- pairing output folder ------------------------------------------------------------------


def _first(folder: Path, names: tuple[str, ...]) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    return None


def _relevant_ids(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        parts = value.replace(";", " ").replace(",", " ").split()
    elif isinstance(value, float) and value != value:
        return set()
    else:
        parts = [str(v) for v in value]
    return {p[:-2] if p.endswith(".0") else p for p in parts if p}


def _sample(items: list[str], limit: int | None, seed: int) -> list[str]:
    """At most ``limit`` of ``items`` (sorted), drawn with a seeded generator."""
    items = sorted(items)
    if limit is None or len(items) <= limit:
        return items
    return sorted(random.Random(seed).sample(items, limit))


def tasks_from_pairs_dir(
    folder: str | Path,
    *,
    split: str = "test",
    n_negatives: int = 25,
    seed: int = 42,
    max_pairs: int | None = MAX_EVAL_PAIRS,
    max_queries: int | None = MAX_EVAL_QUERIES,
) -> list[EvalTask]:
    """The graph tasks a pairing output folder supports: held-out pairs (``split`` rows of
    ``pairs.parquet``, or of ``folder`` itself when it is a pair file), citation prediction
    (``citations_test.parquet``), and title -> abstract retrieval over the test articles
    (needs a texts file with title and abstract).

    Larger sets are subsampled (seeded) to ``max_pairs`` pairs and ``max_queries`` queries
    per task, so that an evaluation on CPU takes minutes; ``None`` keeps everything."""
    path = Path(folder)
    pair_file: Path | None
    if path.is_file():  # a pair file given directly: its folder holds the rest
        folder, pair_file = path.parent, path
    else:
        folder, pair_file = path, _first(path, PAIR_FILE_NAMES)
    tasks: list[EvalTask] = []
    texts_file = find_texts_file(folder / PAIR_FILE_NAMES[0])
    articles = read_texts(texts_file) if texts_file else None
    test_pmids: set[str] = set()
    if pair_file is not None:
        table = load_pairs(pair_file, split=split, texts_file=texts_file, require_split=False,
                           limit=max_pairs, seed=seed)
        if len(table):
            tasks.append(labelled_pairs_task(f"pairs:{split}", table,
                                             f"{len(table)} {split}-split graph pairs"))
            for col in ("pmid_a", "pmid_b"):
                if col in table.frame.columns:
                    test_pmids.update(table.frame[col])
    cite_file = _first(folder, CITATION_FILE_NAMES)
    if cite_file is not None:
        cites = read_table(cite_file)
        pool = dict(articles["text"]) if articles is not None else {}
        own = read_texts(cite_file) if {"text", "title"} & set(cites.columns) else None
        if own is not None:
            for pmid, text in own["text"].items():
                pool.setdefault(str(pmid), text)
        relevant = {}
        for pmid, rel in zip(cites["pmid"], cites["relevant_pmids"], strict=True):
            key = str(pmid)
            key = key[:-2] if key.endswith(".0") else key
            if key in pool:
                relevant[key] = _relevant_ids(rel)
        queries = {k: pool[k] for k in _sample(list(relevant), max_queries, seed)}
        test_pmids.update(queries)
        task = citation_task("citations", queries, relevant, pool, n_negatives=n_negatives,
                             seed=seed)
        if task.size:
            tasks.append(task)
    if articles is not None and "split" in articles.columns:
        test_pmids.update(str(p) for p in articles.index[articles["split"] == split])
    if articles is not None and test_pmids:
        # Only the queries are sampled: every test-split abstract stays a candidate, so the
        # task does not get easier as max_queries shrinks.
        ta = title_abstract_set(articles, test_pmids)
        keep = _sample(list(ta.queries), max_queries, seed)
        ta = RetrievalSet({k: ta.queries[k] for k in keep}, ta.corpus,
                          {k: ta.relevant[k] for k in keep})
        if len(ta.queries) >= 2:
            tasks.append(retrieval_task(
                "title_abstract", ta, f"{len(ta.queries)} test-article titles -> own abstract "
                f"among {len(ta.corpus)} {split}-split abstracts"
            ))
    return tasks


TASK_KINDS = ("pairs", "citations", "title_abstract", "biosses", "pubmedqa", "csv")


def select_tasks(tasks: list[EvalTask], kinds: list[str]) -> list[EvalTask]:
    """The tasks of the named kinds (``pairs`` covers ``pairs:<split>``, ``csv`` every
    ``csv:<name>``); an unknown kind is a TrainingError."""
    from pubgraph.core.errors import TrainingError

    unknown = [k for k in kinds if k not in TASK_KINDS]
    if unknown:
        raise TrainingError(f"unknown task {unknown[0]!r} (choose from {', '.join(TASK_KINDS)})")
    return [t for t in tasks if t.name.split(":", 1)[0] in kinds]


def reusable_results(path: str | Path, tasks: list[EvalTask]) -> dict[str, dict[str, float]]:
    """Base-model results of an earlier comparison (``metrics.json``/``comparison.json``)
    for the tasks whose name and description (data, sizes, seed) are unchanged."""
    import json

    from pubgraph.core.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        base = data["results"]["base"] or {}
        described = data.get("tasks", {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"no base results to reuse ({type(exc).__name__}: {exc})",
                         file=str(path)) from None
    return {t.name: base[t.name] for t in tasks
            if t.name in base and described.get(t.name) == t.description}


# -- running --------------------------------------------------------------------------------


def run_tasks(
    model: SentenceTransformer, tasks: list[EvalTask], *, log: Callable[[str], None] | None = None
) -> dict[str, dict[str, float]]:
    """Run every task on ``model``; each result also records its wall time in ``seconds``."""
    results: dict[str, dict[str, float]] = {}
    for task in tasks:
        start = time.perf_counter()
        result = dict(task.run(model))
        result["seconds"] = round(time.perf_counter() - start, 2)
        results[task.name] = result
        if log:
            main = ", ".join(f"{k}={v:.4f}" for k, v in result.items() if k not in ("n", "seconds"))
            log(f"{task.name}: {main} ({result['seconds']:.1f}s)")
    return results


# -- the whole evaluation (CLI, dashboard and scripts call this) ----------------------------


@dataclass(frozen=True)
class EvalRequest:
    """What ``pubgraph eval`` was asked: the model, its base, and where the tasks come from."""

    model: str
    vs: str | None = None
    pairs: Path | None = None
    csv: tuple[Path, ...] = ()
    benchmarks: tuple[str, ...] = ("biosses", "pubmedqa")
    shared_data: Path | None = None
    out: Path | None = None
    pubmedqa_limit: int | None = None
    max_seq_length: int | None = None
    seed: int = 42
    max_pairs: int | None = MAX_EVAL_PAIRS
    max_queries: int | None = MAX_EVAL_QUERIES
    base_results: Path | None = None
    only: tuple[str, ...] | None = None


@dataclass
class EvalOutcome:
    """The results of an evaluation and where they were written."""

    tasks: list[EvalTask]
    skipped: dict[str, str]
    results: dict[str, dict[str, dict[str, float]]]
    markdown: str
    data: dict[str, Any]
    out_dir: Path
    reused: list[str] = field(default_factory=list)


BENCHMARK_NAMES = ("biosses", "pubmedqa")


def benchmark_tasks(
    names: Iterable[str], shared: Path | None, *, pubmedqa_limit: int | None = None
) -> tuple[list[EvalTask], dict[str, str]]:
    """The benchmark tasks whose data exist, and ``name -> reason`` for those skipped.

    A missing benchmark file is a skip with its reason (a user without ``shared/``), never
    an error; an unknown name is an error.
    """
    from pubgraph.core.errors import TrainingError

    tasks: list[EvalTask] = []
    skipped: dict[str, str] = {}
    for name in names:
        if name not in BENCHMARK_NAMES:
            raise TrainingError(
                f"unknown benchmark {name!r} (choose from {', '.join(BENCHMARK_NAMES)})"
            )
        folder = (shared / "benchmarks" / name) if shared is not None else None
        if name == "biosses":
            need = [folder / f for f in ("train.tsv", "dev.tsv", "test.tsv")] if folder else []
        else:
            need = [folder / "ori_pqal.json"] if folder else []
        missing = [p for p in need if not p.is_file()] if folder else []
        if folder is None or missing:
            where = str(missing[0]) if missing else "no shared data folder"
            skipped[name] = f"data not found ({where}; set PUBGRAPH_SHARED_DATA or --shared-data)"
            continue
        if name == "biosses":
            tasks.append(biosses_task(folder))
        else:
            tasks.append(pubmedqa_task(folder / "ori_pqal.json", limit=pubmedqa_limit))
    return tasks, skipped


def collect_tasks(req: EvalRequest) -> tuple[list[EvalTask], dict[str, str]]:
    """Every task ``req`` names whose data exist, plus the skipped ones with their reasons."""
    from pubgraph.core.errors import TrainingError

    if req.only is not None:
        select_tasks([], list(req.only))  # an unknown task name fails before any work
    tasks: list[EvalTask] = []
    if req.pairs is not None:
        found = tasks_from_pairs_dir(
            req.pairs, seed=req.seed, max_pairs=req.max_pairs or None,
            max_queries=req.max_queries or None,
        )
        if not found:
            raise TrainingError(f"{req.pairs}: no {PAIRS_FILE}, {CITATIONS_TEST_FILE} or texts "
                                "file to evaluate on")
        tasks += found
    bench, skipped = benchmark_tasks(
        req.benchmarks, req.shared_data, pubmedqa_limit=req.pubmedqa_limit
    )
    tasks += bench
    tasks += [csv_task(path) for path in req.csv]
    if req.only is not None:
        tasks = select_tasks(tasks, list(req.only))
        skipped = {k: v for k, v in skipped.items() if k in req.only}
    if not tasks:
        why = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise TrainingError("nothing to evaluate: give --pairs, --csv or --benchmarks"
                            + (f" (skipped {why})" if why else ""))
    return tasks, skipped


def evaluate_models(
    req: EvalRequest,
    *,
    log: Callable[[str], None] = print,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> EvalOutcome:
    """Run ``req``: the model (and its base, side by side), write comparison.md/.json, and
    refresh a pubgraph-trained model's card and metrics.json.

    ``log`` gets one line per skipped task and per result; ``on_progress(description,
    done, total)`` follows the task × model grid.
    """
    from pubgraph.train import report
    from pubgraph.train.models import load_model
    from pubgraph.train.trainer import read_meta, write_results

    tasks, skipped = collect_tasks(req)
    for name, reason in skipped.items():
        log(f"skipped {name}: {reason}")
    models = [("model", req.model)] + ([("base", req.vs)] if req.vs else [])
    results: dict[str, dict[str, dict[str, float]]] = {}
    reused = reusable_results(req.base_results, tasks) if req.base_results and req.vs else {}
    if reused:
        log(f"base results reused from {req.base_results}: {', '.join(reused)}")
    total = len(tasks) * len(models)
    done = 0
    for role, name in models:
        todo = [t for t in tasks if not (role == "base" and t.name in reused)]
        results[role] = dict(reused) if role == "base" else {}
        done += len(tasks) - len(todo)
        if not todo:
            continue
        st = load_model(name, max_seq_length=req.max_seq_length)
        for task in todo:
            if on_progress:
                on_progress(f"{role}: {task.name}", done, total)
            prefix = role

            def task_log(message: str, prefix: str = prefix) -> None:
                log(f"{prefix} {message}")

            results[role].update(run_tasks(st, [task], log=task_log))
            done += 1
    if on_progress:
        on_progress("done", done, total)

    meta = read_meta(req.model)
    model_dir = Path(req.model)
    target = req.out or (model_dir / "eval" if meta else Path("runs") / "eval" / model_dir.name)
    target.mkdir(parents=True, exist_ok=True)
    tuned_name = model_dir.name
    base_label = report.display_name(req.vs) if req.vs else None
    rows = report.comparison_rows(results.get("base"), results["model"])
    md = report.comparison_markdown(rows, base_label, tuned_name, {t.name: t.size for t in tasks})
    if skipped:
        md += "\n" + "\n".join(f"- skipped {k}: {v}" for k, v in skipped.items()) + "\n"
    data = report.comparison_json(rows, base_label, tuned_name, results.get("base"),
                                  results["model"])
    data["tasks"] = {t.name: t.description for t in tasks}
    data["skipped"] = dict(skipped)
    if meta is not None:
        # A pubgraph-trained model: refresh its card and metrics.json with this comparison
        # (with --tasks, the results of the other tasks stay).
        note = (f"Inputs truncated to {req.max_seq_length} tokens for every model."
                if req.max_seq_length else None)
        meta = {**meta, "evaluated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        stored = write_results(model_dir, meta, tasks, results.get("base"), results["model"],
                               base_name=req.vs, tuned_name=tuned_name, notes=note,
                               keep_other_tasks=req.only is not None)
        if req.only is None:
            data = {**stored, "skipped": dict(skipped)}
    (target / "comparison.md").write_text(md, encoding="utf-8")
    report.write_json(target / "comparison.json", data)
    return EvalOutcome(tasks, skipped, results, md, data, target, list(reused))
