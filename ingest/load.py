"""Stream parsed records straight into Neo4j while they are written to Parquet.

The parser pushes records; the graph loader pulls rows. A bounded queue between them and a
loader thread let both run at once (parsing on one core, the loader and Neo4j on the other),
with memory bounded by the queue size.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from pubgraph.graph.db import GraphDB
from pubgraph.graph.loader import GraphLoader, LoadSummary
from pubgraph.ingest.records import Record, to_row

_END = object()


class StreamingLoad:
    """``on_record`` feeds the loader thread; ``finish()`` waits and returns its summary."""

    def __init__(self, driver: GraphDB, *, batch_size: int,
                 max_queued: int = 20_000) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queued)
        self._loader = GraphLoader(driver, batch_size=batch_size)
        self._error: BaseException | None = None
        self._summary: LoadSummary | None = None
        self._thread = threading.Thread(target=self._run, name="pubgraph-load", daemon=True)
        self._thread.start()

    def _rows(self) -> Any:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            yield item

    def _run(self) -> None:
        try:
            self._summary = self._loader.load_rows(self._rows())
        except BaseException as exc:  # handed to the parsing thread
            self._error = exc

    def on_record(self, record: Record, source_file: str) -> None:
        """Queue one record's row; raises the loader's error as soon as it fails."""
        row = to_row(record, source_file)
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(row, timeout=0.5)
                return
            except queue.Full:
                continue

    def finish(self) -> LoadSummary:
        """Signal the end, wait for the last commit, and return the load summary."""
        while self._thread.is_alive():
            try:
                self._queue.put(_END, timeout=0.5)
                break
            except queue.Full:
                continue
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._summary is not None
        return self._summary
