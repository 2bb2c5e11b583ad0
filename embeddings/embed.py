"""Encode every article's text with a sentence-transformers model and write the vectors back.

The job, in steps:

1. **Plan** (``plan_embedding``): page through the articles in pmid order and keep those
   whose vector is missing or stale. Stale means another model id, or a text hash that no
   longer matches the article's current text (title and/or abstract, as chosen).
2. **Index** (``ensure_vector_index``): create the cosine vector index with the model's
   dimension; an index of another dimension is dropped and recreated.
3. **Encode and write** (``embed_articles``): fetch the pending texts one chunk at a time
   (512 by default), encode them (normalised), and write the chunk back in one managed
   transaction (``UNWIND $rows ... db.create.setNodeVectorProperty``). A background thread
   writes chunk *i* while chunk *i + 1* is encoded, so a crash loses at most the chunks in
   flight, and a re-run picks up exactly what is still missing.
4. **Record** the model: ``embedding_model`` / ``embedding_hash`` on every node, and an
   ``(:EmbeddingModel {id, name, path, dimension, version, count, created})`` node.

The model id is ``<name>@<digest>``: the digest covers the model directory's configuration
and weight files, the sentence-transformers version and ``max_seq_length``, so retraining
(or a different truncation) makes every vector stale. A precision other than torch fp32 is
part of the id (``<name>@<digest>/bf16``), so the vectors of two precisions are never mixed
in one index: switching makes every vector stale.

**Precision.** ``Embedder.load(precision="auto")`` encodes in bf16 (``torch.autocast``) on a
CPU that computes bf16 natively (AVX512-BF16 or AMX), where it is about 1.8x faster with a
cosine to the fp32 vectors >= 0.9999, and in fp32 everywhere else: on a CPU without native
bf16 (AVX2 only) bf16 is emulated and several times *slower* (docs/benchmarks.md, "Encoding
backends"). sentence-transformers already sorts each ``encode`` call's texts by length
before batching (``SentenceTransformer.encode``: ``length_sorted_idx``), so batches carry
little padding; the chunks of ``embed_articles`` are such calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import neo4j

from pubgraph.core.contracts import article_text
from pubgraph.core.errors import ConfigError, InputError
from pubgraph.embeddings import queries as q
from pubgraph.graph.db import CONNECTION_ERRORS, GraphDB, connection_lost, run_read, run_write

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer


DEFAULT_CHUNK = 512
DEFAULT_BATCH = 32
SCAN_PAGE = 5000

#: Encoding precisions: ``auto`` picks bf16 where the CPU computes it natively, else fp32.
PRECISIONS = ("auto", "fp32", "bf16")
#: CPU flags (``/proc/cpuinfo``) of native bf16 arithmetic.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})

#: Files whose bytes define a model's version (any that exist in the directory).
_VERSION_FILES = (
    "modules.json",
    "config.json",
    "config_sentence_transformers.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "vocab.txt",
    "model.safetensors",
    "pytorch_model.bin",
)


# --- pure helpers ---------------------------------------------------------------------------


def text_hash(text: str) -> str:
    """A short, stable digest of the encoded text (decides whether a vector is stale)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def model_version(path: str | Path, extra: Sequence[str] = ()) -> str:
    """Digest of the model directory's config and weight files (recursively) plus ``extra``."""
    root = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name in _VERSION_FILES)
    if not files:
        raise ConfigError(f"{root} is not a sentence-transformers model directory")
    for p in files:
        h.update(str(p.relative_to(root)).encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    for item in extra:
        h.update(item.encode())
    return h.hexdigest()[:12]


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU feature flags (Linux ``/proc/cpuinfo``; empty where it cannot be read)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_bf16_native(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX-BF16).

    Without it torch emulates bf16 matmuls and autocast is several times slower than fp32,
    so ``auto`` precision falls back to fp32.
    """
    return bool(BF16_FLAGS & cpu_flags(cpuinfo))


def resolve_precision(precision: str, device: str | None, native: bool | None = None) -> str:
    """``fp32`` or ``bf16`` for ``precision`` (``auto``, ``fp32``, ``bf16``) on ``device``.

    ``auto`` is bf16 on a CPU with native bf16 and fp32 elsewhere (a GPU keeps fp32 here:
    its own half-precision paths are the trainer's business, not the encoder's).
    """
    if precision not in PRECISIONS:
        raise ConfigError(
            f"unknown precision {precision!r} (use one of {', '.join(PRECISIONS)})",
            "--precision",
        )
    if precision != "auto":
        return precision
    on_cpu = device is None or str(device).startswith("cpu")
    if on_cpu and device is None:
        import torch

        on_cpu = not torch.cuda.is_available()
    if not on_cpu:
        return "fp32"
    return "bf16" if (cpu_bf16_native() if native is None else native) else "fp32"


def precision_of(model_id: str) -> str:
    """The precision recorded in a model id (``name@digest/bf16`` -> bf16, else fp32)."""
    tail = model_id.rsplit("/", 1)[-1] if "@" in model_id else ""
    return tail if tail in PRECISIONS and tail != "auto" else "fp32"


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced a vector: written on the nodes and the EmbeddingModel node."""

    id: str
    name: str
    path: str
    version: str
    dimension: int
    max_seq_length: int
    library: str
    precision: str = "fp32"


class Embedder:
    """A loaded sentence-transformers model plus its identity (``info``) and precision."""

    def __init__(self, model: SentenceTransformer, info: ModelInfo, batch_size: int) -> None:
        self.model = model
        self.info = info
        self.batch_size = batch_size

    @classmethod
    def load(
        cls,
        model: str | Path,
        *,
        max_seq_length: int | None = None,
        batch_size: int = DEFAULT_BATCH,
        device: str | None = None,
        name: str | None = None,
        precision: str = "auto",
    ) -> Embedder:
        """Load a model directory (or a name ``resolve_model`` maps to one), offline.

        ``precision``: ``auto`` (bf16 autocast where the CPU has native bf16, else fp32),
        ``fp32`` or ``bf16``; anything but fp32 is recorded in the model id.
        """
        import sentence_transformers
        from sentence_transformers import SentenceTransformer

        from pubgraph.core.models import resolve_model

        if batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, not {batch_size}")
        resolved = resolve_model(str(model))
        if not Path(resolved).is_dir():
            raise ConfigError(f"model {model} is not a local directory", "--model")
        chosen = resolve_precision(precision, device)
        st = SentenceTransformer(resolved, device=device)
        if max_seq_length is not None:
            st.max_seq_length = int(max_seq_length)
        get_dim = getattr(st, "get_embedding_dimension", None) or (
            st.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise ConfigError(f"model {model} does not declare an embedding dimension")
        seq = int(st.max_seq_length or 0)
        st_version = sentence_transformers.__version__
        version = model_version(resolved, extra=(st_version, f"max_seq_length={seq}"))
        label = name or _model_name(str(model), resolved)
        # fp32 keeps the plain id, so vectors stored before precisions existed stay valid.
        suffix = "" if chosen == "fp32" else f"/{chosen}"
        info = ModelInfo(
            id=f"{label}@{version}{suffix}",
            name=label,
            path=resolved,
            version=version,
            dimension=int(dim),
            max_seq_length=seq,
            library=f"sentence-transformers {st_version} torch {chosen}",
            precision=chosen,
        )
        return cls(st, info, batch_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors, one row per text (bf16 autocast when so loaded)."""
        import contextlib

        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        ctx: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if self.info.precision == "bf16":
            device_type = "cuda" if str(self.model.device).startswith("cuda") else "cpu"
            ctx = torch.autocast(device_type, dtype=torch.bfloat16)
        with ctx, torch.inference_mode():
            vecs = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        # Normalised in fp32 (after a bf16 forward pass the pooled vector is bf16).
        out = torch.nn.functional.normalize(vecs.float(), dim=-1).cpu().numpy()
        return np.asarray(out, dtype=np.float32)


def _model_name(given: str, resolved: str) -> str:
    if given != resolved and not Path(given).exists():
        return given  # a hub-style name such as sentence-transformers/all-MiniLM-L6-v2
    return Path(resolved).name


# --- plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingArticle:
    pmid: str
    reason: Literal["missing", "model", "text"]


@dataclass
class EmbedPlan:
    """What a run has to do: the pending articles and the counts behind them."""

    with_text: int = 0
    up_to_date: int = 0
    pending: list[PendingArticle] = field(default_factory=list)

    def count(self, reason: str) -> int:
        return sum(1 for p in self.pending if p.reason == reason)


def iter_articles(
    driver: GraphDB, page: int = SCAN_PAGE
) -> Iterator[dict[str, Any]]:
    """Every article (pmid order) with its text and embedding bookkeeping, page by page."""
    after = ""
    while True:
        rows = run_read(driver, q.SCAN_ARTICLES, {"after": after, "page": page})
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1]["pmid"]


def plan_embedding(
    driver: GraphDB,
    model_id: str,
    text_mode: str = "title+abstract",
) -> EmbedPlan:
    """Find the articles whose vector is missing, from another model, or of an old text."""
    plan = EmbedPlan()
    for row in iter_articles(driver):
        if row["no_text"]:
            continue
        text = article_text(row["title"], row["abstract"], text_mode)
        if not text:
            continue
        plan.with_text += 1
        if not row["has_vector"]:
            plan.pending.append(PendingArticle(row["pmid"], "missing"))
        elif row["model"] != model_id:
            plan.pending.append(PendingArticle(row["pmid"], "model"))
        elif row["text_hash"] != text_hash(text):
            plan.pending.append(PendingArticle(row["pmid"], "text"))
        else:
            plan.up_to_date += 1
    return plan


# --- index ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexInfo:
    name: str
    state: str
    dimension: int | None
    population: float


def vector_index(driver: GraphDB) -> IndexInfo | None:
    """The ``article_embedding`` index as the server reports it, or None."""
    rows = run_read(driver, q.SHOW_VECTOR_INDEX, {"name": q.VECTOR_INDEX})
    if not rows:
        return None
    r = rows[0]
    dim = r["dimension"]
    return IndexInfo(
        name=r["name"],
        state=r["state"],
        dimension=int(dim) if dim is not None else None,
        population=float(r["population"] or 0.0),
    )


def ensure_vector_index(
    driver: GraphDB,
    dimension: int,
    wait: float | None = None,
) -> str:
    """Create the cosine vector index for ``dimension``; recreate one of another dimension.

    Returns a one-line message saying what happened. With ``wait`` (seconds), blocks
    until the index is online.
    """
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
        raise ConfigError(f"vector dimension must be a positive integer, not {dimension!r}")
    current = vector_index(driver)
    message = f"vector index {q.VECTOR_INDEX} exists ({dimension} dimensions, cosine)"
    if current is not None and current.dimension != dimension:
        run_write(driver, q.DROP_VECTOR_INDEX)
        message = (
            f"vector index {q.VECTOR_INDEX} had {current.dimension} dimensions: dropped and "
            f"recreated with {dimension}"
        )
        current = None
    if current is None:
        if not message.startswith(f"vector index {q.VECTOR_INDEX} had"):
            message = f"vector index {q.VECTOR_INDEX} created ({dimension} dimensions, cosine)"
        run_write(driver, q.CREATE_VECTOR_INDEX, {"dim": dimension})
    run_write(driver, q.CREATE_MODEL_PROPERTY_INDEX)
    if wait:
        await_vector_index(driver, wait)
    return message


def await_vector_index(
    driver: GraphDB, timeout: float = 300.0
) -> None:
    """Block until the vector index is online (population finished)."""
    with driver.session() as session:
        session.run(q.AWAIT_INDEX, name=q.VECTOR_INDEX, timeout=int(timeout)).consume()




# --- encode and write -----------------------------------------------------------------------


@dataclass
class EmbedSummary:
    """The figures a run reports at its end."""

    model_id: str
    dimension: int
    with_text: int = 0
    up_to_date: int = 0
    pending: int = 0
    missing: int = 0
    stale_model: int = 0
    stale_text: int = 0
    encoded: int = 0
    written: int = 0
    cleared: int = 0
    index_message: str = ""
    seconds: float = 0.0
    encode_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items()}
        out["docs_per_second"] = round(self.docs_per_second, 2)
        return out


ProgressCallback = Callable[[int], None]


def write_vectors(
    driver: GraphDB,
    model_id: str,
    rows: list[dict[str, Any]],
) -> int:
    """Write one chunk of ``{pmid, vector, text_hash}`` rows in one managed transaction."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        tx.run(q.WRITE_VECTORS, rows=rows, model_id=model_id).consume()
        tx.run(q.UPDATE_MODEL_COUNT, model_id=model_id).consume()
        return len(rows)

    with driver.session() as session:
        return session.execute_write(work)


class _Writer:
    """Writes chunks on a background thread while the caller encodes the next one.

    ``put`` first waits for the previous chunk's transaction to finish, so at any moment
    one chunk is being written and one encoded: a crash loses at most the chunk being
    encoded (and the transaction in flight, which a managed transaction commits or not).
    """

    def __init__(self, write: Callable[[list[dict[str, Any]]], int]) -> None:
        self._write = write
        self._queue: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.written = 0
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="embed-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            rows = self._queue.get()
            try:
                if rows is None:
                    return
                if self.error is None:
                    start = time.perf_counter()
                    try:
                        self.written += self._write(rows)
                    except BaseException as exc:  # re-raised in the caller's thread
                        self.error = exc
                    self.seconds += time.perf_counter() - start
            finally:
                self._queue.task_done()

    def put(self, rows: list[dict[str, Any]]) -> None:
        self._queue.join()
        self.check()
        self._queue.put(rows)

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.check()


def fetch_texts(
    driver: GraphDB,
    pmids: Sequence[str],
    text_mode: str,
) -> list[tuple[str, str]]:
    """``(pmid, text)`` for the given articles, in the given order, skipping empty texts."""
    rows = run_read(driver, q.FETCH_TEXTS, {"pmids": list(pmids)})
    by_pmid = {r["pmid"]: article_text(r["title"], r["abstract"], text_mode) for r in rows}
    return [(p, by_pmid[p]) for p in pmids if by_pmid.get(p)]


def embed_articles(
    driver: GraphDB,
    embedder: Embedder,
    *,
    text_mode: str = "title+abstract",
    chunk_size: int = DEFAULT_CHUNK,
    limit: int | None = None,
    overlap: bool = True,
    on_plan: Callable[[EmbedPlan], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> EmbedSummary:
    """Encode every article whose vector is missing or stale and write the vectors back.

    ``limit`` caps how many articles this run encodes (the rest stay pending for the next
    run). ``on_plan`` sees the plan before encoding starts (e.g. to size a progress bar);
    ``on_progress(n)`` is called after each chunk has been written.
    """
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be >= 1, not {chunk_size}")
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be >= 0, not {limit}")
    article_text("", "", text_mode)  # validates the mode before any work
    info = embedder.info
    start = time.perf_counter()
    summary = EmbedSummary(model_id=info.id, dimension=info.dimension)
    try:
        _embed(driver, embedder, summary, text_mode=text_mode, chunk_size=chunk_size,
               limit=limit, overlap=overlap, on_plan=on_plan, on_progress=on_progress)
    except CONNECTION_ERRORS as exc:
        # Neo4j gone at any step (planning, a chunk, the final count): one line with what
        # was committed; ``summary.written`` already holds the chunks the writer finished.
        raise connection_lost(exc, committed=f"{summary.written:,} vectors",
                              command="embed") from None
    summary.seconds = time.perf_counter() - start
    return summary


def _embed(
    driver: GraphDB,
    embedder: Embedder,
    summary: EmbedSummary,
    *,
    text_mode: str,
    chunk_size: int,
    limit: int | None,
    overlap: bool,
    on_plan: Callable[[EmbedPlan], None] | None,
    on_progress: ProgressCallback | None,
) -> None:
    """The work of :func:`embed_articles`, filling ``summary`` as it goes."""
    info = embedder.info
    summary.index_message = ensure_vector_index(driver, info.dimension)
    cleared = run_write(driver, q.CLEAR_ORPHAN_VECTORS)
    summary.cleared = int(cleared[0]["cleared"])
    plan = plan_embedding(driver, info.id, text_mode)
    summary.with_text = plan.with_text
    summary.up_to_date = plan.up_to_date
    summary.missing = plan.count("missing")
    summary.stale_model = plan.count("model")
    summary.stale_text = plan.count("text")
    pending = [p.pmid for p in plan.pending]
    if limit is not None:
        pending = pending[:limit]
    summary.pending = len(pending)
    if on_plan is not None:
        on_plan(plan)
    record_model(driver, info, text_mode)

    def write(rows: list[dict[str, Any]]) -> int:
        n = write_vectors(driver, info.id, rows)
        if on_progress is not None:
            on_progress(n)
        return n

    writer = _Writer(write) if overlap else None
    lost = False
    try:
        for i in range(0, len(pending), chunk_size):
            texts = fetch_texts(driver, pending[i : i + chunk_size], text_mode)
            if not texts:
                continue
            t0 = time.perf_counter()
            vectors = embedder.encode([t for _, t in texts])
            summary.encode_seconds += time.perf_counter() - t0
            summary.encoded += len(texts)
            rows = [
                {"pmid": pmid, "vector": vec.tolist(), "text_hash": text_hash(text)}
                for (pmid, text), vec in zip(texts, vectors, strict=True)
            ]
            if writer is not None:
                writer.put(rows)
            else:
                t0 = time.perf_counter()
                summary.written += write(rows)
                summary.write_seconds += time.perf_counter() - t0
        if writer is not None:
            writer.close()
    except CONNECTION_ERRORS:
        lost = True
        raise
    finally:
        if writer is not None:
            with contextlib.suppress(BaseException):
                writer.close()  # already closed, or the error raised above is the one
            summary.written += writer.written
            summary.write_seconds += writer.seconds
        if not lost:
            # Neo4j gone: the next run refreshes the counts (no further 30 s of retries).
            record_model(driver, info, text_mode)
        from pubgraph.embeddings.search import clear_status_cache

        clear_status_cache()


def record_model(
    driver: GraphDB, info: ModelInfo, text_mode: str
) -> None:
    """MERGE the EmbeddingModel node and refresh every model's vector count."""
    run_write(
        driver,
        q.MERGE_EMBEDDING_MODEL,
        {
            "id": info.id,
            "name": info.name,
            "path": info.path,
            "dimension": info.dimension,
            "version": info.version,
            "max_seq_length": info.max_seq_length,
            "text": text_mode,
            "library": info.library,
        },
    )
    run_write(driver, q.REFRESH_MODEL_COUNTS)


@dataclass(frozen=True)
class StoredModel:
    """An EmbeddingModel node."""

    id: str
    name: str
    path: str | None
    dimension: int
    version: str | None
    max_seq_length: int | None
    text: str | None
    count: int
    created: str | None
    updated: str | None


def stored_models(driver: GraphDB) -> list[StoredModel]:
    """The models that produced the stored vectors, most recently used first."""
    return [StoredModel(**r) for r in run_read(driver, q.LIST_EMBEDDING_MODELS)]


def current_model(driver: GraphDB) -> StoredModel:
    """The model of the most recent embed run that still has vectors in the graph."""
    for m in stored_models(driver):
        if m.count > 0:
            return m
    raise InputError(
        "no embeddings in the graph: run `pubgraph embed --model PATH` first", field="embedding"
    )


def stored_model_embedder(
    driver: GraphDB, *, device: str | None = None, hint: str = "pass --model"
) -> Embedder:
    """The query encoder for the stored vectors: the model recorded on the ``EmbeddingModel``
    node, at the precision its id records, so query and article vectors come from one model.

    Falls back to resolving the model's name when its recorded path is gone (another
    machine); otherwise a one-line error ending in ``hint``.
    """
    from pubgraph.core.errors import PubgraphError
    from pubgraph.core.models import resolve_model

    stored = current_model(driver)
    path = stored.path if stored.path and Path(stored.path).is_dir() else None
    if path is None:  # moved machine: a name such as all-MiniLM-L6-v2 may still resolve
        try:
            candidate = resolve_model(stored.name)
        except PubgraphError:
            candidate = ""
        path = candidate if candidate and Path(candidate).is_dir() else None
    if path is None:
        raise ConfigError(
            f"the vectors were made by {stored.id} from {stored.path}, which is not "
            f"available here: {hint}"
        )
    return Embedder.load(
        path, max_seq_length=stored.max_seq_length, name=stored.name, device=device,
        precision=precision_of(stored.id),
    )
