"""The database handle: every session of a load, its schema included, opens the handle's
database. Before the handle, ``GraphLoader`` opened sessions with ``database=None`` (the
server's default) while ``init_schema`` resolved ``None`` to ``NEO4J_DATABASE``: with
``NEO4J_DATABASE=pubmed`` on a server whose default is ``neo4j`` they parted ways."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import neo4j
import pytest

from pubgraph.graph.db import GraphDB, run_read
from pubgraph.graph.loader import GraphLoader
from pubgraph.graph.schema import init_schema

pytestmark = pytest.mark.neo4j


@dataclass
class RecordingDriver:
    """A real driver that remembers the ``database`` every session asked for."""

    inner: neo4j.Driver
    asked: list[Any] = field(default_factory=list)

    def session(self, **config: Any) -> neo4j.Session:
        self.asked.append(config.get("database", "<not given>"))
        return self.inner.session(**config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


ROW = {"record_type": "article", "pmid": "101", "title": "Air embolism in divers.",
       "abstract": "Case series.", "year": 1978, "journal_id": "J1", "journal_title": "J",
       "mesh": [{"ui": "D000400", "name": "Air embolism", "major": True, "qualifiers": []}],
       "references": [{"pmid": "102"}], "source_file": "x.xml"}


def test_schema_and_data_use_the_handle_database(graph_db: GraphDB) -> None:
    recording = RecordingDriver(graph_db.driver)
    db = GraphDB(recording, graph_db.database)  # type: ignore[arg-type]
    init_schema(db)
    GraphLoader(db, batch_size=10).load_rows([ROW])
    assert recording.asked, "no session was opened"
    assert set(recording.asked) == {graph_db.database}, recording.asked
    [row] = run_read(db, "MATCH (a:Article {pmid: '101'})-[:CITES]->(b) RETURN b.pmid AS b")
    assert row == {"b": "102"}


def test_a_missing_database_fails_for_schema_and_data_alike(graph_db: GraphDB) -> None:
    from pubgraph.core.errors import PubgraphError

    db = GraphDB(graph_db.driver, "nosuchdatabase")
    with pytest.raises((neo4j.exceptions.ClientError, PubgraphError)):
        GraphLoader(db, batch_size=10).load_rows([ROW])
    # nothing reached the real database either
    assert run_read(graph_db, "MATCH (a:Article) RETURN count(a) AS n") == [{"n": 0}]
