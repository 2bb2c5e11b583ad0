"""Small hand-built graphs for the pairing tests, written with plain Cypher.

Each builder documents its edges so the tests can list the expected pairs by hand.
PMIDs are short strings; symmetric strategies emit pairs with pmid_a < pmid_b in string
order, so the tests compare unordered pairs (sorted tuples).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pubgraph.graph.db import GraphDB, run_write

CREATE_ARTICLES = """
UNWIND $rows AS row
MERGE (a:Article {pmid: row.pmid})
SET a.stub = row.stub, a.title = row.title, a.abstract = row.abstract, a.year = row.year,
    a.deleted = row.deleted
"""

CREATE_CITES = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row[0]}), (b:Article {pmid: row[1]})
MERGE (a)-[:CITES]->(b)
"""

CREATE_TERMS = """
UNWIND $rows AS row
MERGE (m:MeshTerm {ui: row.ui})
SET m.name = row.ui, m.tree_numbers = row.tree_numbers
"""

CREATE_HAS_MESH = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid}), (m:MeshTerm {ui: row.ui})
MERGE (a)-[r:HAS_MESH]->(m)
SET r.major = row.major
"""

CREATE_BROADER = """
MATCH (n:MeshTerm), (b:MeshTerm)
WHERE n <> b AND any(t IN n.tree_numbers WHERE any(u IN b.tree_numbers
      WHERE t STARTS WITH u + '.' AND size(split(t, '.')) = size(split(u, '.')) + 1))
MERGE (n)-[:BROADER]->(b)
"""

SET_EMBEDDINGS = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
SET a.embedding = row.embedding
"""

CREATE_VECTOR_INDEX = """
CREATE VECTOR INDEX article_embedding_test IF NOT EXISTS
FOR (a:Article) ON (a.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 4, `vector.similarity_function`: 'cosine'}}
"""


def articles(
    driver: GraphDB,
    pmids: Iterable[str],
    *,
    stub: bool = False,
    years: dict[str, int] | None = None,
    deleted: bool | None = None,
) -> None:
    """Create articles; text ones get a title and an abstract made from their PMID."""
    rows = [
        {
            "pmid": p,
            "stub": stub,
            "title": None if stub else f"Title {p}.",
            "abstract": None if stub else f"Abstract of article {p}.",
            "year": (years or {}).get(p, 2000),
            "deleted": deleted,
        }
        for p in pmids
    ]
    run_write(driver, CREATE_ARTICLES, {"rows": rows})


def cites(driver: GraphDB, edges: Sequence[tuple[str, str]]) -> None:
    run_write(driver, CREATE_CITES, {"rows": [list(e) for e in edges]})


def mesh(
    driver: GraphDB,
    terms: dict[str, list[str]],
    headings: Sequence[tuple[str, str, bool]],
    *,
    broader: bool = True,
) -> None:
    """``terms``: ui → tree numbers (empty: no hierarchy); ``headings``: (pmid, ui, major)."""
    run_write(
        driver,
        CREATE_TERMS,
        {"rows": [{"ui": ui, "tree_numbers": trees or None} for ui, trees in terms.items()]},
    )
    run_write(
        driver,
        CREATE_HAS_MESH,
        {"rows": [{"pmid": p, "ui": ui, "major": major} for p, ui, major in headings]},
    )
    if broader:
        run_write(driver, CREATE_BROADER)


def embeddings(driver: GraphDB, vectors: dict[str, list[float]]) -> None:
    run_write(
        driver, SET_EMBEDDINGS, {"rows": [{"pmid": p, "embedding": v} for p, v in vectors.items()]}
    )


def vector_index(driver: GraphDB) -> None:
    run_write(driver, CREATE_VECTOR_INDEX)
    run_write(driver, "CALL db.awaitIndexes(60)")


# --- the graphs ----------------------------------------------------------------------------


def citation_graph(driver: GraphDB) -> None:
    """Text articles 1..8, stubs 101..103, deleted article 9 (a stub with deleted=true).

    CITES: 1→2, 1→3, 1→101, 1→102, 1→9; 2→3; 4→2, 4→3, 4→101, 4→102, 4→103;
    5→2, 5→3; 6→1, 6→2; 7→101; 8→1, 8→2.
    """
    articles(driver, [str(i) for i in range(1, 9)])
    articles(driver, ["101", "102", "103"], stub=True)
    articles(driver, ["9"], stub=True, deleted=True)
    cites(
        driver,
        [
            ("1", "2"),
            ("1", "3"),
            ("1", "101"),
            ("1", "102"),
            ("1", "9"),
            ("2", "3"),
            ("4", "2"),
            ("4", "3"),
            ("4", "101"),
            ("4", "102"),
            ("4", "103"),
            ("5", "2"),
            ("5", "3"),
            ("6", "1"),
            ("6", "2"),
            ("7", "101"),
            ("8", "1"),
            ("8", "2"),
        ],
    )


def mesh_graph(driver: GraphDB) -> None:
    """Text articles 11..20, all with the generic descriptor H (df 10).

    M1 {11,12,13} (major on 11, 12), M2 {11,12} (major on both), M3 {13,14}, M4 {14,15},
    M5 {15,16,17} (major on 15, 16), M6 {15,16}, M7 {17,18}, M8 {18} (df 1).
    N = 10: idf(df 2) = log 5 = 1.609, idf(df 3) = log(10/3) = 1.204, idf(H) = 0.
    """
    pmids = [str(i) for i in range(11, 21)]
    articles(driver, pmids)
    headings = [(p, "H", False) for p in pmids]
    members: dict[str, list[tuple[str, bool]]] = {
        "M1": [("11", True), ("12", True), ("13", False)],
        "M2": [("11", True), ("12", True)],
        "M3": [("13", False), ("14", False)],
        "M4": [("14", False), ("15", False)],
        "M5": [("15", True), ("16", True), ("17", False)],
        "M6": [("15", False), ("16", False)],
        "M7": [("17", False), ("18", False)],
        "M8": [("18", False)],
    }
    for ui, arts in members.items():
        headings += [(p, ui, major) for p, major in arts]
    mesh(driver, {ui: [] for ui in ["H", *members]}, headings, broader=False)


def distant_graph(driver: GraphDB) -> None:
    """Text articles 21..30. CITES 21→22→23→24 and 25→26; 27 and 28 share descriptor D."""
    articles(driver, [str(i) for i in range(21, 31)])
    cites(driver, [("21", "22"), ("22", "23"), ("23", "24"), ("25", "26")])
    mesh(driver, {"D": []}, [("27", "D", False), ("28", "D", False)], broader=False)


def hierarchy_graph(driver: GraphDB) -> None:
    """Text articles 31..36 with one specific descriptor each, plus HUM (B01.050) on all.

    31: MB A01.236.500, 32: MC A01.378, 33: MD C04.557.337, 34: ME C04.588,
    35: MF G01, 36: MA A01.236. CITES 31→33. Terms A01, A01.236, C04, C04.557, B01 exist
    so BROADER edges can be drawn.
    """
    pmids = [str(i) for i in range(31, 37)]
    articles(driver, pmids)
    terms = {
        "MA": ["A01.236"],
        "MB": ["A01.236.500"],
        "MC": ["A01.378"],
        "MD": ["C04.557.337"],
        "ME": ["C04.588"],
        "MF": ["G01"],
        "HUM": ["B01.050"],
        "TA01": ["A01"],
        "TC04": ["C04"],
        "TC04557": ["C04.557"],
        "TB01": ["B01"],
    }
    headings = [(p, "HUM", False) for p in pmids] + [
        ("31", "MB", True),
        ("32", "MC", True),
        ("33", "MD", True),
        ("34", "ME", True),
        ("35", "MF", True),
        ("36", "MA", True),
    ]
    mesh(driver, terms, headings)
    cites(driver, [("31", "33")])


def hard_graph(driver: GraphDB) -> None:
    """Text articles 41..48.

    Major descriptors: DA C04.557 on 41, DB C04.588 on 42, DC C04.700 on 43, DA on 44 but
    NOT major, DG G01.100 on 45 and 46, DH F01 on 47; 48 has no MeSH.
    CITES: 43→41, 48→43 (so 48→43→41 is a citation-of-citation of 48).
    """
    articles(driver, [str(i) for i in range(41, 49)])
    terms = {
        "DA": ["C04.557"],
        "DB": ["C04.588"],
        "DC": ["C04.700"],
        "DG": ["G01.100"],
        "DH": ["F01"],
        "TC04": ["C04"],
        "TG01": ["G01"],
    }
    headings = [
        ("41", "DA", True),
        ("42", "DB", True),
        ("43", "DC", True),
        ("44", "DA", False),
        ("45", "DG", True),
        ("46", "DG", True),
        ("47", "DH", True),
    ]
    mesh(driver, terms, headings)
    cites(driver, [("43", "41"), ("48", "43")])


def _unit(degrees: float) -> list[float]:
    import math

    r = math.radians(degrees)
    return [math.cos(r), math.sin(r), 0.0, 0.0]


VECTOR_ANGLES = {"51": 0, "52": 20, "53": 50, "54": 90, "55": 140, "56": 200}


def vector_graph(driver: GraphDB, *, index: bool) -> None:
    """Text articles 51..57; 51..56 carry unit vectors at the angles of ``VECTOR_ANGLES``
    (cosine rank = angular distance rank); 57 has none.

    CITES 51→53 (direct link) and 54→57→55 (2 hops); 52 and 54 share major descriptor X.
    """
    articles(driver, [str(i) for i in range(51, 58)])
    embeddings(driver, {p: _unit(a) for p, a in VECTOR_ANGLES.items()})
    cites(driver, [("51", "53"), ("54", "57"), ("57", "55")])
    mesh(driver, {"X": []}, [("52", "X", True), ("54", "X", True)], broader=False)
    if index:
        vector_index(driver)


def pairs_of(rows: Iterable[dict[str, Any]], strategy: str | None = None) -> set[tuple[str, str]]:
    """Unordered pairs (sorted tuples) of pair rows, optionally of one strategy."""
    return {
        tuple(sorted((r["pmid_a"], r["pmid_b"])))  # type: ignore[misc]
        for r in rows
        if strategy is None or r["strategy"] == strategy
    }
