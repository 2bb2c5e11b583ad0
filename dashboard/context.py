"""What every page needs: the database handle, the query model, the analysis run, caches.

One :class:`DashboardContext` belongs to one app (``create_app`` stores it in the Flask
config); pages and callbacks reach it with :func:`current`. The handle is made lazily by
the ``db_factory`` given to ``create_app`` and made again after a failure, so the app
starts (and says what to do) while Neo4j is down, and recovers when it comes back.

Reads that do not change between requests (an analysis run's topics and map, the year
range, the vector status) are cached for ``ttl`` seconds: analysis runs are immutable
snapshots, and the rest is cheap to refresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pubgraph.core.errors import PubgraphError

if TYPE_CHECKING:
    from pubgraph.embeddings.embed import Embedder
    from pubgraph.graph.db import GraphDB

log = logging.getLogger("pubgraph.dashboard")
T = TypeVar("T")
CONTEXT_KEY = "PUBGRAPH_DASHBOARD"
DEFAULT_TTL = 60.0


class NeedsCommand(PubgraphError):
    """The graph lacks something a page needs; ``command`` is what the user should run."""

    def __init__(self, message: str, command: str, title: str = "Nothing to show yet") -> None:
        super().__init__(message)
        self.command = command
        self.title = title


@dataclass
class DashboardContext:
    """The app's handle on the graph, its query model and its analysis run.

    ``db_factory`` returns a connected :class:`GraphDB` (it may raise
    :class:`~pubgraph.core.errors.Neo4jUnavailable`); ``embedder_factory`` loads the model
    for query texts given the handle (default: the model recorded with the stored vectors);
    ``analysis_run`` pins a run (default: the latest); ``runs_dirs`` are scanned for
    trained models.
    """

    db_factory: Callable[[], GraphDB]
    embedder_factory: Callable[[GraphDB], Embedder] | None = None
    analysis_run: str | None = None
    runs_dirs: tuple[Path, ...] = ()
    ttl: float = DEFAULT_TTL
    map_points_max: int = 6000
    _db: GraphDB | None = field(default=None, init=False, repr=False)
    _embedder: Embedder | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    # Loading the model takes seconds: its own lock, so other pages are not held up.
    _model_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _cache: dict[Any, tuple[float, Any]] = field(default_factory=dict, init=False, repr=False)

    def db(self) -> GraphDB:
        """The handle, connecting on first use (and again after ``forget_db``)."""
        with self._lock:
            if self._db is None:
                self._db = self.db_factory()
            return self._db

    def forget_db(self) -> None:
        """Drop the handle after a connection failure; the next ``db()`` reconnects."""
        with self._lock:
            db, self._db = self._db, None
            self._cache.clear()
        if db is not None:
            try:
                db.close()
            except Exception:
                log.debug("closing the old driver failed", exc_info=True)

    def embedder(self) -> Embedder:
        """The model that encodes query texts (loaded once)."""
        with self._model_lock:
            if self._embedder is None:
                factory = self.embedder_factory or default_query_embedder
                self._embedder = factory(self.db())
            return self._embedder

    def warm(self) -> None:
        """Connect and load the query model now (in the background at start-up), so the
        first search does not wait for it; failures are left for the pages to explain."""
        try:
            self.embedder()
        except Exception:
            log.info("could not load the query model yet", exc_info=True)

    def cached(self, key: Any, fn: Callable[[], T], ttl: float | None = None) -> T:
        """``fn()``, remembered under ``key`` for ``ttl`` seconds (default: the context's)."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < (self.ttl if ttl is None else ttl):
            return hit[1]  # type: ignore[no-any-return]
        value = fn()
        self._cache[key] = (now, value)
        return value

    def close(self) -> None:
        self.forget_db()


def default_query_embedder(db: GraphDB) -> Embedder:
    """The model recorded with the stored vectors (``EmbeddingModel`` node), loaded offline.

    Falls back to resolving the model's name when its recorded path is gone (another
    machine); fails with the command to run when the graph has no vectors.
    """
    import torch

    from pubgraph.embeddings.embed import current_model, stored_model_embedder

    # One short query per request: intra-op threads buy nothing and, on a busy machine,
    # cost a lot (measured on 2 loaded cores: 535 ms median with 2 threads, 60 ms with 1).
    # Concurrent requests still run in parallel, each on its own server thread.
    torch.set_num_threads(1)

    try:
        current_model(db)
    except PubgraphError:
        raise NeedsCommand(
            "The graph has no article vectors, so text search cannot run.",
            "pubgraph embed",
            "No vectors",
        ) from None
    return stored_model_embedder(
        db, device="cpu", hint="run `pubgraph embed --model PATH` with a model you have"
    )


def current() -> DashboardContext:
    """The context of the app serving the current request."""
    import flask

    ctx = flask.current_app.config.get(CONTEXT_KEY)
    if ctx is None:  # pragma: no cover - create_app always sets it
        raise RuntimeError("no dashboard context: build the app with create_app")
    return ctx  # type: ignore[no-any-return]
