"""A GraphSAGE link predictor over the article graph, compared with text-only cosine.

Numbered steps, as in sentence-transformers' training scripts:

1. **Export** (``get_*`` from Neo4j / Parquet, then the pure ``build_export``): nodes are the
   text articles (``stub=false``) and, optionally, the stubs cited by at least
   ``min_stub_citers`` of them (they carry bibliographic coupling); features are the text
   embeddings (``Article.embedding`` or a ``pmid, vector`` Parquet file) plus a flag column
   that is 1 for a node without a vector (its vector part is zeros). Edges: CITES, undirected
   for message passing, and shared-MeSH edges (a pairing run's ``shared_mesh`` pairs, or a
   Cypher query with an IDF cap).
2. **Split** (``split_edges``, pure): the targets are CITES edges between two text articles
   (with ``targets="cites+mesh"`` also the shared-MeSH edges).
   A node is *train-side* when it is a train article (pairing run's ``splits.parquet``) or
   a stub. Training sees only edges whose two ends are train-side: it never touches a
   validation/test/unsplit article. Test targets have both ends in test. Evaluation runs
   message passing over two contexts: ``train`` (training edges only: test articles are
   isolated and only their own features count) and ``observed`` (every edge except those
   with both ends in test: a new article's references and MeSH terms are known, its links
   to other new articles are what is predicted). No edge with both ends in test ever enters
   message passing.
3. **Train**: two ``SAGEConv`` layers, score = ``scale * cos(z_a, z_b) + bias``, binary
   cross-entropy against ``negative_sampling`` among train articles; the batch's own
   positive edges are dropped from message passing in that step, so the model cannot learn
   to read the answer off a direct link that will be absent at test time. Seeded, CPU.
4. **Evaluate** (``evaluate_links``): on the test targets, AUC/AP against as many seeded
   random test-test non-edges, and MRR / hits@10 of each cited article among ``candidates``
   random test articles; the same pairs are scored by the cosine of the input embeddings.
5. **Write back** (``write_graph_embeddings``): the unit-normalised embeddings computed over
   all edges, as ``Article.graph_embedding`` (``db.create.setNodeVectorProperty``, batched),
   only when the GNN beat text cosine on the test AUC.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pubgraph.core.contracts import PAIRS_FILE, read_splits
from pubgraph.core.errors import TrainingError
from pubgraph.graph.db import GraphDB, batched, run_read, write_batches
from pubgraph.train import gnn_queries as q
from pubgraph.train import metrics

if TYPE_CHECKING:
    import torch
    from torch_geometric.data import Data

TRAIN = "train"
TEST = "test"
STUB = "stub"
MESH_SOURCES = ("pairs", "cypher", "none")
TARGET_KINDS = ("cites", "cites+mesh")
CONTEXTS = ("train", "observed")

Log = Callable[[str], None]


@dataclass(frozen=True)
class GnnConfig:
    """Everything a GNN run depends on (written to ``gnn.json``)."""

    epochs: int = 50
    hidden: int = 128
    out_dim: int = 64
    lr: float = 0.01
    dropout: float = 0.2
    batch_size: int = 256
    seed: int = 13
    stubs: bool = True
    min_stub_citers: int = 2
    mesh: str = "pairs"
    targets: str = "cites"
    mesh_k: int = 2
    mesh_max_df: float = 0.005
    mesh_min_idf: float = 8.0
    candidates: int = 50
    limit: int | None = None
    page: int = 5000
    threads: int = 1

    def validate(self) -> None:
        """One-line ``TrainingError`` for a bad value."""
        if self.mesh not in MESH_SOURCES:
            raise TrainingError(f"unknown MeSH edge source {self.mesh!r} (choose from "
                                f"{', '.join(MESH_SOURCES)})")
        if self.targets not in TARGET_KINDS:
            raise TrainingError(f"unknown link targets {self.targets!r} (choose from "
                                f"{', '.join(TARGET_KINDS)})")
        if self.targets == "cites+mesh" and self.mesh == "none":
            raise TrainingError("targets cites+mesh needs MeSH edges (--mesh pairs or cypher)")
        for name in ("epochs", "hidden", "out_dim", "batch_size", "candidates", "page",
                     "threads", "min_stub_citers", "mesh_k"):
            if getattr(self, name) < 1:
                raise TrainingError(f"gnn setting {name} must be >= 1, got {getattr(self, name)}")
        if self.limit is not None and self.limit < 1:
            raise TrainingError(f"gnn setting limit must be >= 1, got {self.limit}")


@dataclass(frozen=True)
class GraphExport:
    """The article graph as arrays (node order: text articles by pmid, then stubs by pmid).

    ``cites`` holds directed (citing, cited) node indices; ``mesh`` holds (a, b), a < b.
    ``split`` is the pairing split of a text article (``""`` if it has none) or ``"stub"``.
    """

    pmids: tuple[str, ...]
    split: tuple[str, ...]
    features: np.ndarray = field(repr=False)
    has_vector: np.ndarray = field(repr=False)
    cites: np.ndarray = field(repr=False)
    mesh: np.ndarray = field(repr=False)

    @property
    def num_nodes(self) -> int:
        return len(self.pmids)

    def index(self) -> dict[str, int]:
        """pmid -> node index."""
        return {p: i for i, p in enumerate(self.pmids)}

    def counts(self) -> dict[str, int]:
        """Nodes by split, vectors, edges."""
        out = {f"nodes_{k or 'unsplit'}": v for k, v in sorted(Counter(self.split).items())}
        out.update(nodes=self.num_nodes, with_vector=int(self.has_vector.sum()),
                   cites=int(self.cites.shape[1]), mesh=int(self.mesh.shape[1]))
        return out


@dataclass(frozen=True)
class EdgeSplit:
    """Edge sets of ``split_edges`` (all ``(2, E)`` int64 arrays of node indices).

    ``train_message``/``observed_message``/``all_message`` are undirected (both directions
    present). ``train_message_target`` gives, per column of ``train_message``, the id of the
    training target it carries (a column of ``train_targets``) or -1.
    """

    train_targets: np.ndarray
    test_targets: np.ndarray
    train_message: np.ndarray
    train_message_target: np.ndarray
    observed_message: np.ndarray
    all_message: np.ndarray

    def counts(self) -> dict[str, int]:
        return {
            "train_targets": int(self.train_targets.shape[1]),
            "test_targets": int(self.test_targets.shape[1]),
            "train_message_edges": int(self.train_message.shape[1] // 2),
            "observed_message_edges": int(self.observed_message.shape[1] // 2),
            "all_message_edges": int(self.all_message.shape[1] // 2),
        }


@dataclass
class GnnResult:
    """What ``run_gnn`` produced."""

    out_dir: Path
    results: dict[str, dict[str, float]]
    counts: dict[str, Any]
    seconds: float
    wrote_back: int = 0
    losses: list[float] = field(default_factory=list)

    @property
    def gnn_helps(self) -> bool:
        """GNN (observed context) AUC above text cosine AUC on the test targets."""
        return _gain(self.results) > 0


# -- 1. export ------------------------------------------------------------------------------


def get_articles(
    driver: GraphDB,
    *,
    with_vectors: bool,
    page: int = 5000,
    limit: int | None = None,
) -> list[tuple[str, list[float] | None]]:
    """Text articles in pmid order, ``(pmid, embedding or None)``; at most ``limit``."""
    query = q.TEXT_ARTICLES_EMBEDDING_PAGE if with_vectors else q.TEXT_ARTICLES_PAGE
    out: list[tuple[str, list[float] | None]] = []
    after = ""
    while limit is None or len(out) < limit:
        size = page if limit is None else min(page, limit - len(out))
        rows = run_read(driver, query, {"after": after, "page": size})
        out.extend((str(r["pmid"]), r.get("vector")) for r in rows)
        if len(rows) < size:
            break
        after = str(rows[-1]["pmid"])
    return out


def read_vectors(path: str | Path) -> dict[str, np.ndarray]:
    """A ``pmid, vector`` Parquet file (``pubgraph embeddings export``) as pmid -> vector."""
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.is_file():
        raise TrainingError(f"{p}: no such embeddings file")
    table = pq.read_table(p)
    missing = {"pmid", "vector"} - set(table.column_names)
    if missing:
        raise TrainingError(f"{p}: missing column(s) {', '.join(sorted(missing))} "
                            "(expected pmid, vector)")
    pmids = table.column("pmid").to_pylist()
    vectors = table.column("vector").to_pylist()
    return {str(pm): np.asarray(v, dtype=np.float32) for pm, v in zip(pmids, vectors,
                                                                       strict=True) if v}


def get_cites(
    driver: GraphDB, pmids: Sequence[str], *, batch: int = 5000,
) -> list[tuple[str, str, bool]]:
    """``(citing, cited, cited_is_stub)`` for every CITES out of ``pmids``."""
    out: list[tuple[str, str, bool]] = []
    for chunk in batched(pmids, batch):
        for r in run_read(driver, q.CITES_FROM, {"pmids": chunk}):
            out.append((str(r["source"]), str(r["target"]), bool(r["target_stub"])))
    return out


def mesh_idf(
    driver: GraphDB, *, max_df: float
) -> dict[str, float]:
    """IDF ``log(N/df)`` of the descriptors held by at most ``max_df`` of the text articles."""
    n = int(run_read(driver, q.TEXT_ARTICLE_COUNT)[0]["n"])
    if n == 0:
        return {}
    rows = run_read(driver, q.MESH_DOCUMENT_FREQUENCY)
    cap = max(1.0, max_df * n)
    return {str(r["ui"]): math.log(n / int(r["df"])) for r in rows if int(r["df"]) <= cap}


def get_mesh_edges(
    driver: GraphDB,
    pmids: Sequence[str],
    *,
    k: int,
    max_df: float,
    min_idf: float,
    batch: int = 500,
) -> list[tuple[str, str]]:
    """Pairs of text articles sharing >= ``k`` capped descriptors with IDF sum >= ``min_idf``."""
    idf = mesh_idf(driver, max_df=max_df)
    if not idf:
        return []
    out: list[tuple[str, str]] = []
    for chunk in batched(pmids, batch):
        params = {"pmids": chunk, "idf": idf, "k": k, "min_idf": min_idf}
        for r in run_read(driver, q.SHARED_MESH_EDGES, params):
            out.append((str(r["source"]), str(r["target"])))
    return out


def read_mesh_pairs(run_dir: str | Path) -> list[tuple[str, str]]:
    """The ``shared_mesh`` positives of a pairing run's ``pairs.parquet`` (none if absent)."""
    import pyarrow.parquet as pq

    path = Path(run_dir) / PAIRS_FILE
    if not path.is_file():
        return []
    frame = pq.read_table(path, columns=["pmid_a", "pmid_b", "label", "strategy"]).to_pandas()
    keep = frame[(frame["strategy"] == "shared_mesh") & (frame["label"] == 1)]
    return [(str(a), str(b)) for a, b in zip(keep["pmid_a"], keep["pmid_b"], strict=True)]


def build_export(
    articles: Sequence[tuple[str, Any]],
    cites: Iterable[tuple[str, str, bool]],
    mesh_pairs: Iterable[tuple[str, str]],
    splits: Mapping[str, str],
    *,
    vectors: Mapping[str, Any] | None = None,
    stubs: bool = True,
    min_stub_citers: int = 2,
) -> GraphExport:
    """The graph as arrays (pure). Vectors come from ``vectors`` when given, else from the
    second item of each article tuple; edges whose ends are not nodes are dropped."""
    text = sorted({p for p, _ in articles})
    text_set = set(text)
    cite_list = [(a, b, s) for a, b, s in cites if a in text_set and a != b]
    stub_nodes: list[str] = []
    if stubs:
        citers = Counter(b for _, b, s in set(cite_list) if s and b not in text_set)
        stub_nodes = sorted(b for b, n in citers.items() if n >= min_stub_citers)
    pmids = (*text, *stub_nodes)
    index = {p: i for i, p in enumerate(pmids)}
    source = dict(articles) if vectors is None else vectors
    dims = {len(v) for p in text if (v := source.get(p)) is not None and len(v)}
    if len(dims) > 1:
        raise TrainingError(f"article embeddings have mixed dimensions {sorted(dims)}")
    if not dims:
        raise TrainingError("no article has an embedding: run `pubgraph embed` first or give "
                            "--features PARQUET")
    dim = dims.pop()
    features = np.zeros((len(pmids), dim + 1), dtype=np.float32)
    has_vector = np.zeros(len(pmids), dtype=bool)
    for i, p in enumerate(text):
        v = source.get(p)
        if v is not None and len(v):
            features[i, :dim] = np.asarray(v, dtype=np.float32)
            has_vector[i] = True
    features[~has_vector, dim] = 1.0
    cite_pairs = sorted({(index[a], index[b]) for a, b, _ in cite_list if b in index})
    mesh = sorted({(min(index[a], index[b]), max(index[a], index[b]))
                   for a, b in mesh_pairs if a in text_set and b in text_set and a != b})
    split = tuple(splits.get(p, "") for p in text) + (STUB,) * len(stub_nodes)
    return GraphExport(pmids, split, features, has_vector, _edges(cite_pairs), _edges(mesh))


def _edges(pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T.copy()


def export_graph(
    driver: GraphDB,
    run_dir: str | Path,
    config: GnnConfig,
    *,
    features: str | Path | None = None,
    log: Log | None = None,
) -> GraphExport:
    """Step 1: read articles, vectors, CITES and MeSH edges and the run's splits."""
    say = log or (lambda _m: None)
    splits = read_splits(run_dir)
    from_neo4j = features is None or str(features) == "neo4j"
    say("reading articles" + (" and their embeddings" if from_neo4j else ""))
    articles = get_articles(driver, with_vectors=from_neo4j, page=config.page,
                            limit=config.limit)
    vectors = None if from_neo4j else read_vectors(str(features))
    pmids = [p for p, _ in articles]
    say(f"reading CITES of {len(pmids)} articles")
    cites = get_cites(driver, pmids, batch=config.page)
    mesh: list[tuple[str, str]] = []
    if config.mesh == "pairs":
        mesh = read_mesh_pairs(run_dir)
    elif config.mesh == "cypher":
        say("querying shared-MeSH edges")
        mesh = get_mesh_edges(driver, pmids, k=config.mesh_k, max_df=config.mesh_max_df,
                              min_idf=config.mesh_min_idf)
    return build_export(articles, cites, mesh, splits, vectors=vectors, stubs=config.stubs,
                        min_stub_citers=config.min_stub_citers)


# -- 2. splits ------------------------------------------------------------------------------


def split_edges(export: GraphExport, targets: str = "cites") -> EdgeSplit:
    """Training/test targets and the message-passing edge sets (see the module docstring).

    ``targets`` is ``cites`` (CITES between two text articles) or ``cites+mesh`` (also the
    shared-MeSH edges: a corpus whose articles seldom cite each other still has them)."""
    split = np.asarray(export.split, dtype=object)
    train_side = (split == TRAIN) | (split == STUB)
    is_test = split == TEST
    is_text = split != STUB
    links = export.cites if targets == "cites" else np.concatenate([export.cites, export.mesh],
                                                                    axis=1)
    undirected = _undirected_unique(links)
    both_text = is_text[undirected[0]] & is_text[undirected[1]]
    train_t = undirected[:, both_text & (split[undirected[0]] == TRAIN)
                         & (split[undirected[1]] == TRAIN)]
    # Test targets keep their direction (citing, cited) for the ranking task; a MeSH edge
    # whose pair is already a test citation is not counted twice.
    directed = export.cites
    test_t = directed[:, is_test[directed[0]] & is_test[directed[1]]]
    if targets != "cites":
        seen = {(min(a, b), max(a, b)) for a, b in test_t.T.tolist()}
        extra = []
        for a, b in export.mesh.T.tolist():
            key = (min(a, b), max(a, b))
            if is_test[a] and is_test[b] and key not in seen:
                seen.add(key)
                extra.append((a, b))
        if extra:
            test_t = np.concatenate([test_t, np.asarray(extra, dtype=np.int64).T], axis=1)

    edges = _undirected_unique(np.concatenate([export.cites, export.mesh], axis=1))
    if edges.size:
        in_train = train_side[edges[0]] & train_side[edges[1]]
        observed = ~(is_test[edges[0]] & is_test[edges[1]])
    else:
        in_train = observed = np.zeros(0, dtype=bool)
    train_edges = edges[:, in_train]
    target_id = {(int(a), int(b)): i for i, (a, b) in enumerate(train_t.T)}
    ids = np.asarray([target_id.get((int(a), int(b)), -1) for a, b in train_edges.T],
                     dtype=np.int64)
    return EdgeSplit(
        train_targets=train_t,
        test_targets=test_t,
        train_message=_both_ways(train_edges),
        train_message_target=np.concatenate([ids, ids]),
        observed_message=_both_ways(edges[:, observed]),
        all_message=_both_ways(edges),
    )


def _undirected_unique(edges: np.ndarray) -> np.ndarray:
    if edges.size == 0:
        return np.zeros((2, 0), dtype=np.int64)
    lo = np.minimum(edges[0], edges[1])
    hi = np.maximum(edges[0], edges[1])
    keep = lo != hi
    return np.unique(np.stack([lo[keep], hi[keep]]), axis=1)


def _both_ways(edges: np.ndarray) -> np.ndarray:
    return np.concatenate([edges, edges[::-1]], axis=1).astype(np.int64)


def to_pyg(export: GraphExport, edges: EdgeSplit | None = None) -> Data:
    """A PyG ``Data``: ``x``, ``edge_index`` (all edges, undirected), ``cites_index``
    (directed), ``mesh_index``, boolean masks ``train_mask``/``test_mask``/``stub_mask``,
    ``pmids``; with ``edges`` also ``train_edge_index``, ``observed_edge_index``,
    ``train_target_index`` and ``test_target_index``."""
    import torch
    from torch_geometric.data import Data

    split = np.asarray(export.split, dtype=object)
    es = edges or split_edges(export)
    data = Data(
        x=torch.from_numpy(export.features),
        edge_index=torch.from_numpy(es.all_message),
        cites_index=torch.from_numpy(export.cites),
        mesh_index=torch.from_numpy(export.mesh),
        train_mask=torch.from_numpy(split == TRAIN),
        test_mask=torch.from_numpy(split == TEST),
        stub_mask=torch.from_numpy(split == STUB),
        num_nodes=export.num_nodes,
    )
    data.pmids = list(export.pmids)
    if edges is not None:
        data.train_edge_index = torch.from_numpy(es.train_message)
        data.observed_edge_index = torch.from_numpy(es.observed_message)
        data.train_target_index = torch.from_numpy(es.train_targets)
        data.test_target_index = torch.from_numpy(es.test_targets)
    return data


# -- 3. model and training ------------------------------------------------------------------


def build_model(in_dim: int, config: GnnConfig) -> torch.nn.Module:
    """Two ``SAGEConv`` layers and a scaled-cosine link scorer."""
    import torch
    from torch_geometric.nn import SAGEConv

    class SageLinkPredictor(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = SAGEConv(in_dim, config.hidden)
            self.conv2 = SAGEConv(config.hidden, config.out_dim)
            self.dropout = config.dropout
            self.scale = torch.nn.Parameter(torch.tensor(5.0))
            self.bias = torch.nn.Parameter(torch.tensor(0.0))

        def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.conv1(x, edge_index))
            h = torch.nn.functional.dropout(h, self.dropout, self.training)
            out: torch.Tensor = self.conv2(h, edge_index)
            return out

        def score(self, z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
            zn = torch.nn.functional.normalize(z, dim=1)
            return self.scale * (zn[pairs[0]] * zn[pairs[1]]).sum(dim=1) + self.bias

    return SageLinkPredictor()


def train_model(
    export: GraphExport,
    edges: EdgeSplit,
    config: GnnConfig,
    *,
    progress: bool = True,
) -> tuple[torch.nn.Module, list[float]]:
    """Step 3: train on the training targets over training edges only; mean loss per epoch."""
    import torch
    from torch_geometric.utils import negative_sampling
    from tqdm.auto import tqdm

    if edges.train_targets.shape[1] == 0:
        raise TrainingError("no CITES edge has both ends in the train split: nothing to train "
                            "on (load more articles or check the pairing run's splits)")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    x = torch.from_numpy(export.features)
    message = torch.from_numpy(edges.train_message)
    message_target = torch.from_numpy(edges.train_message_target)
    targets = torch.from_numpy(edges.train_targets)
    split = np.asarray(export.split, dtype=object)
    train_nodes = torch.from_numpy(np.flatnonzero(split == TRAIN))
    local = torch.full((export.num_nodes,), -1, dtype=torch.long)
    local[train_nodes] = torch.arange(len(train_nodes))
    both_ways = torch.cat([local[targets], local[targets].flip(0)], dim=1)
    model: Any = build_model(x.shape[1], config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    bar = tqdm(range(config.epochs), desc="gnn epochs", disable=not progress)
    for _ in bar:
        model.train()
        order = torch.randperm(targets.shape[1], generator=gen)
        total, steps = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            ids = order[start:start + config.batch_size]
            # The batch's own edges are hidden from message passing (they are absent at test).
            keep = ~torch.isin(message_target, ids)
            z = model(x, message[:, keep])
            neg_local = negative_sampling(both_ways, num_nodes=len(train_nodes),
                                          num_neg_samples=len(ids))
            pos = model.score(z, targets[:, ids])
            neg = model.score(z, train_nodes[neg_local])
            logits = torch.cat([pos, neg])
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            total += loss.item()
            steps += 1
        losses.append(total / max(steps, 1))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    model.eval()
    return model, losses


def embed(model: torch.nn.Module, export: GraphExport, message: np.ndarray) -> np.ndarray:
    """Node embeddings with message passing over ``message`` (unit-normalised, numpy)."""
    import torch

    with torch.no_grad():
        z = model(torch.from_numpy(export.features), torch.from_numpy(message))
        z = torch.nn.functional.normalize(z, dim=1)
    return np.asarray(z.numpy(), dtype=np.float32)


# -- 4. evaluation --------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkTask:
    """Seeded test pairs: positives, as many negatives, and ranking candidates."""

    positives: np.ndarray
    negatives: np.ndarray
    candidates: tuple[tuple[int, int, tuple[int, ...]], ...]

    @property
    def size(self) -> int:
        return int(self.positives.shape[1])


def link_task(export: GraphExport, edges: EdgeSplit, *, candidates: int, seed: int) -> LinkTask:
    """Test positives (CITES, both ends test), seeded random test-test non-edges, and for
    each positive (citing, cited) up to ``candidates`` random test articles the citing one
    is not linked to."""
    rng = np.random.default_rng(seed)
    split = np.asarray(export.split, dtype=object)
    test_nodes = np.flatnonzero(split == TEST)
    pos = edges.test_targets
    linked = {(int(a), int(b)) for a, b in _undirected_unique(export.cites).T}
    negs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    want = pos.shape[1]
    tries = 0
    n = len(test_nodes)
    in_test = set(test_nodes.tolist())
    max_pairs = n * (n - 1) // 2 - sum(1 for a, b in linked if a in in_test and b in in_test)
    while n >= 2 and len(negs) < min(want, max(max_pairs, 0)) and tries < 50 * want + 100:
        tries += 1
        a, b = (int(v) for v in rng.choice(test_nodes, 2, replace=False))
        key = (min(a, b), max(a, b))
        if key in linked or key in seen:
            continue
        seen.add(key)
        negs.append(key)
    cands = []
    for a, b in pos.T:
        a, b = int(a), int(b)
        pool = [int(c) for c in test_nodes if c not in (a, b)
                and (min(a, int(c)), max(a, int(c))) not in linked]
        take = min(candidates, len(pool))
        chosen = tuple(int(c) for c in rng.choice(pool, take, replace=False)) if take else ()
        cands.append((a, b, chosen))
    return LinkTask(pos, _edges(negs), tuple(cands))


def evaluate_links(task: LinkTask, vectors: np.ndarray) -> dict[str, float]:
    """AUC/AP (``metrics.pair_metrics``) and MRR/hits@10 of cosine over ``vectors`` rows."""
    pairs = np.concatenate([task.positives, task.negatives], axis=1)
    labels = [1] * task.positives.shape[1] + [0] * task.negatives.shape[1]
    if pairs.shape[1]:
        scores = metrics.cosine_rows(vectors[pairs[0]], vectors[pairs[1]])
        out = metrics.pair_metrics(scores.tolist(), labels)
    else:
        out = {"n": 0.0, "auc": math.nan, "ap": math.nan, "spearman": math.nan}
    out.pop("spearman", None)
    rrs, hits = [], []
    for a, b, cands in task.candidates:
        ids = [b, *cands]
        scores = metrics.cosine_rows(np.repeat(vectors[[a]], len(ids), axis=0), vectors[ids])
        ranked = metrics.rank_relevance(list(scores), [1] + [0] * len(cands))
        rrs.append(metrics.reciprocal_rank(ranked))
        hits.append(metrics.hit_at_k(ranked, 10))
    out["mrr"] = metrics.mean(rrs)
    out["hits@10"] = metrics.mean(hits)
    out["positives"] = float(task.positives.shape[1])
    return out


def comparison_rows(results: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Rows ``scorer, auc, ap, mrr, hits@10, positives`` in a fixed order."""
    return [{"scorer": name, **{k: results[name].get(k, math.nan)
                                for k in ("auc", "ap", "mrr", "hits@10", "positives")}}
            for name in results]


def comparison_markdown(results: Mapping[str, Mapping[str, float]], note: str = "") -> str:
    """A Markdown table of ``comparison_rows``."""
    lines = ["| scorer | AUC | AP | MRR | hits@10 | test edges |", "|---|---|---|---|---|---|"]
    for r in comparison_rows(results):
        vals = " | ".join("n/a" if math.isnan(r[k]) else f"{r[k]:.4f}"
                          for k in ("auc", "ap", "mrr", "hits@10"))
        lines.append(f"| {r['scorer']} | {vals} | {int(r['positives'])} |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


TEXT_SCORER = "text cosine"
GNN_TRAIN_SCORER = "GraphSAGE (train edges)"
GNN_OBSERVED_SCORER = "GraphSAGE (train + observed edges)"


def _gain(results: Mapping[str, Mapping[str, float]]) -> float:
    gnn = results.get(GNN_OBSERVED_SCORER, {}).get("auc", math.nan)
    text = results.get(TEXT_SCORER, {}).get("auc", math.nan)
    return gnn - text if not (math.isnan(gnn) or math.isnan(text)) else -math.inf


# -- 5. write-back --------------------------------------------------------------------------


def write_graph_embeddings(
    driver: GraphDB,
    export: GraphExport,
    vectors: np.ndarray,
    *,
    run: str,
    batch_size: int = 1000,
) -> int:
    """Write each text article's graph embedding as ``Article.graph_embedding``."""
    rows = ({"pmid": p, "vector": vectors[i].astype(float).tolist()}
            for i, p in enumerate(export.pmids) if export.split[i] != STUB)
    return write_batches(driver, q.WRITE_GRAPH_EMBEDDINGS, rows, batch_size=batch_size, run=run)


# -- the whole run --------------------------------------------------------------------------


def run_gnn(
    driver: GraphDB,
    run_dir: str | Path,
    out_dir: str | Path,
    config: GnnConfig | None = None,
    *,
    features: str | Path | None = None,
    write_back: bool = False,
    progress: bool = True,
    log: Log | None = None,
) -> GnnResult:
    """Export, split, train, evaluate against text cosine, optionally write back.

    Writes ``comparison.md``, ``comparison.json``, ``gnn.json``, ``model.pt`` and
    ``graph_embeddings.parquet`` (``pmid, vector``, over all edges) to ``out_dir``.
    """
    import torch

    cfg = config or GnnConfig()
    cfg.validate()
    say = log or (lambda _m: None)
    start = time.perf_counter()
    export = export_graph(driver, run_dir, cfg, features=features, log=say)
    edges = split_edges(export, cfg.targets)
    say(f"graph: {export.counts()}; edges: {edges.counts()}")
    model, losses = train_model(export, edges, cfg, progress=progress)
    task = link_task(export, edges, candidates=cfg.candidates, seed=cfg.seed)
    text_vectors = export.features[:, :-1]
    results = {
        TEXT_SCORER: evaluate_links(task, text_vectors),
        GNN_TRAIN_SCORER: evaluate_links(task, embed(model, export, edges.train_message)),
        GNN_OBSERVED_SCORER: evaluate_links(task, embed(model, export, edges.observed_message)),
    }
    full = embed(model, export, edges.all_message)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, Any] = {**export.counts(), **edges.counts(), "test_negatives":
                              int(task.negatives.shape[1])}
    run = _run_name(run_dir, cfg)
    wrote = 0
    gain = _gain(results)
    if write_back and gain > 0:
        say(f"GNN beats text cosine by {gain:+.4f} AUC: writing Article.graph_embedding")
        wrote = write_graph_embeddings(driver, export, full, run=run)
    elif write_back:
        say("GNN does not beat text cosine on the test AUC: graph_embedding not written")
    seconds = time.perf_counter() - start
    kind = "CITES" if cfg.targets == "cites" else "CITES and shared-MeSH"
    note = (f"Test: {task.size} {kind} edges with both ends in the test split of "
            f"{Path(run_dir).name}, as many random test-test non-edges (AUC, AP), and each cited "
            f"article ranked among up to {cfg.candidates} random test articles (MRR, hits@10). "
            "'train edges': test articles isolated in message passing; 'train + observed': "
            "every edge except test-test ones.")
    (out / "comparison.md").write_text(comparison_markdown(results, note), encoding="utf-8")
    payload = {"run": run, "pairs_run": str(run_dir), "rows": comparison_rows(results),
               "results": results, "counts": counts, "config": asdict(cfg),
               "losses": losses, "seconds": round(seconds, 2), "wrote_back": wrote}
    (out / "comparison.json").write_text(json.dumps(_nan_to_none(payload), indent=2)
                                         + "\n", encoding="utf-8")
    (out / "gnn.json").write_text(json.dumps({"config": asdict(cfg), "counts": counts,
                                              "features": str(features or "neo4j")},
                                             indent=2) + "\n", encoding="utf-8")
    torch.save(model.state_dict(), out / "model.pt")
    _write_vectors(out / "graph_embeddings.parquet", export, full)
    return GnnResult(out, results, counts, seconds, wrote, losses)


def _run_name(run_dir: str | Path, cfg: GnnConfig) -> str:
    manifest = Path(run_dir) / "run.json"
    name = Path(run_dir).name
    if manifest.is_file():
        name = str(json.loads(manifest.read_text()).get("id", name))
    return f"gnn-{name}-s{cfg.seed}"


def _nan_to_none(value: Any) -> Any:
    """JSON has no NaN: undefined metrics become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def _write_vectors(path: Path, export: GraphExport, vectors: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    keep = [i for i, s in enumerate(export.split) if s != STUB]
    dim = vectors.shape[1]
    flat = vectors[keep].reshape(-1).astype(np.float32)
    offsets = np.arange(0, len(keep) + 1, dtype=np.int32) * dim
    table = pa.Table.from_arrays(
        [pa.array([export.pmids[i] for i in keep], pa.string()),
         pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))],
        names=["pmid", "vector"],
    )
    pq.write_table(table, path)
