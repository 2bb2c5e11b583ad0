"""Every Cypher statement of the analysis package, as named constants.

Values are always ``$parameters``. Two things Cypher cannot take as parameters are handled
by small builders below, which only ever interpolate validated integers or fixed fragments:

* the bounds of a variable-length pattern (``[:CITES*1..3]``): ``cited_neighbours_query``
  accepts ``hops`` in ``1..MAX_HOPS`` and returns one of the prebuilt constants;
* whether a query starts from the vector index or scores all vectors exactly: the two
  variants are composed once at import time from fixed fragments.

The vector index options *can* be parameters in Neo4j 5.26 (checked against the server:
``OPTIONS {indexConfig: {`vector.dimensions`: $dim, ...}}`` works), so ``CREATE_VECTOR_INDEX``
takes ``$dim``; the index name is a fixed identifier.

Neo4j's cosine scores (``db.index.vector.queryNodes`` and ``vector.similarity.cosine``)
are ``(1 + cos) / 2`` in ``[0, 1]``; every query here returns the plain cosine
``2 * score - 1`` so that results compare directly with numpy.
"""

from __future__ import annotations

from pubgraph.graph import queries as graph_queries

VECTOR_INDEX = "article_embedding"
EMBEDDING_PROPERTY = "embedding"
MAX_HOPS = 3

# --- schema ---------------------------------------------------------------------------------

CREATE_VECTOR_INDEX = """
CREATE VECTOR INDEX article_embedding IF NOT EXISTS
FOR (a:Article) ON a.embedding
OPTIONS {indexConfig: {`vector.dimensions`: $dim, `vector.similarity_function`: 'cosine'}}
"""

DROP_VECTOR_INDEX = "DROP INDEX article_embedding IF EXISTS"

SHOW_VECTOR_INDEX = """
SHOW VECTOR INDEXES YIELD name, state, populationPercent, options, labelsOrTypes, properties
WHERE name = $name
RETURN name, state, populationPercent AS population,
       options.indexConfig.`vector.dimensions` AS dimension,
       options.indexConfig.`vector.similarity_function` AS similarity,
       labelsOrTypes AS labels, properties
"""

AWAIT_INDEX = "CALL db.awaitIndex($name, $timeout)"

# A range index on the model id makes the stale scan and the per-model counts cheap.
CREATE_MODEL_PROPERTY_INDEX = """
CREATE INDEX article_embedding_model IF NOT EXISTS FOR (a:Article) ON (a.embedding_model)
"""

# --- embedding: scan, fetch, write ----------------------------------------------------------

# Pages through the non-stub articles in pmid order (the unique constraint's index serves
# both the range seek and the order), returning what is needed to decide staleness.
SCAN_ARTICLES = """
MATCH (a:Article)
WHERE a.pmid > $after AND coalesce(a.stub, false) = false
WITH a ORDER BY a.pmid
LIMIT $page
RETURN a.pmid AS pmid, a.title AS title, a.abstract AS abstract,
       coalesce(a.deleted, false) AS no_text,
       a.embedding_model AS model, a.embedding_hash AS text_hash,
       a.embedding IS NOT NULL AS has_vector
"""

FETCH_TEXTS = graph_queries.ARTICLE_TEXTS

WRITE_VECTORS = """
UNWIND $rows AS r
MATCH (a:Article {pmid: r.pmid})
CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector)
SET a.embedding_model = $model_id, a.embedding_hash = r.text_hash
"""

# Vectors of articles that lost their text (deleted, or turned into stubs) are removed.
CLEAR_ORPHAN_VECTORS = """
MATCH (a:Article)
WHERE a.embedding IS NOT NULL
  AND (coalesce(a.stub, false) OR coalesce(a.deleted, false)
       OR (a.title IS NULL AND a.abstract IS NULL))
REMOVE a.embedding, a.embedding_model, a.embedding_hash
RETURN count(a) AS cleared
"""

MERGE_EMBEDDING_MODEL = """
MERGE (m:EmbeddingModel {id: $id})
ON CREATE SET m.created = datetime()
SET m.name = $name, m.path = $path, m.dimension = $dimension, m.version = $version,
    m.max_seq_length = $max_seq_length, m.text = $text, m.library = $library,
    m.updated = datetime()
WITH m
OPTIONAL MATCH (a:Article {embedding_model: $id})
WITH m, count(a) AS n
SET m.count = n
RETURN m.id AS id, m.count AS count
"""

# Run with each chunk's write so the count (which decides index vs exact scoring) is live.
UPDATE_MODEL_COUNT = """
MATCH (m:EmbeddingModel {id: $model_id})
OPTIONAL MATCH (a:Article {embedding_model: $model_id})
WITH m, count(a) AS n
SET m.count = n
"""

# Other models' counts shrink as their vectors are replaced.
REFRESH_MODEL_COUNTS = """
MATCH (m:EmbeddingModel)
OPTIONAL MATCH (a:Article {embedding_model: m.id})
WITH m, count(a) AS n
SET m.count = n
RETURN m.id AS id, m.name AS name, m.dimension AS dimension, n AS count
"""

LIST_EMBEDDING_MODELS = """
MATCH (m:EmbeddingModel)
RETURN m.id AS id, m.name AS name, m.path AS path, m.dimension AS dimension,
       m.version AS version, m.max_seq_length AS max_seq_length, m.text AS text,
       coalesce(m.count, 0) AS count, toString(m.created) AS created,
       toString(m.updated) AS updated
ORDER BY m.updated DESC
"""

COUNT_MODEL_VECTORS = """
MATCH (m:EmbeddingModel)
RETURN count(m) AS models, sum(m.count) AS n
"""

COUNT_VECTORS = """
MATCH (a:Article) WHERE a.embedding IS NOT NULL
RETURN count(a) AS n
"""

# --- export ---------------------------------------------------------------------------------

EXPORT_PAGE = """
MATCH (a:Article)
WHERE a.pmid > $after AND a.embedding IS NOT NULL
WITH a ORDER BY a.pmid
LIMIT $page
RETURN a.pmid AS pmid, a.embedding AS vector, a.embedding_model AS model
"""

# --- lookups for filters --------------------------------------------------------------------

# A descriptor (by UI or exact name, case-insensitive) and every narrower descriptor.
RESOLVE_MESH = """
MATCH (m:MeshTerm)
WHERE m.ui = $mesh OR toLower(m.name) = toLower($mesh)
MATCH (m)<-[:BROADER*0..]-(n:MeshTerm)
RETURN collect(DISTINCT n.ui) AS uis
"""

RESOLVE_JOURNAL = """
MATCH (j:Journal)
WHERE j.id = $journal OR j.issn = $journal OR toLower(j.title) = toLower($journal)
   OR toLower(j.iso_abbreviation) = toLower($journal)
RETURN collect(DISTINCT j.id) AS ids
"""

ARTICLE_VECTOR = """
MATCH (a:Article {pmid: $pmid})
RETURN a.pmid AS pmid, a.embedding AS vector, a.embedding_model AS model
"""

# --- search ---------------------------------------------------------------------------------

# The filter applied to a candidate ``a``; every filter is off when its parameter is null.
_FILTER = """
  ($min_year IS NULL OR a.year >= $min_year)
  AND ($max_year IS NULL OR a.year <= $max_year)
  AND ($journal_ids IS NULL OR a.journal_id IN $journal_ids)
  AND ($mesh_uis IS NULL OR EXISTS {
        MATCH (a)-[:HAS_MESH]->(t:MeshTerm) WHERE t.ui IN $mesh_uis })
  AND NOT a.pmid IN $exclude
"""

_RETURN_HIT = """
RETURN a.pmid AS pmid, a.title AS title, a.year AS year, a.journal_id AS journal,
       2 * s - 1 AS score
ORDER BY score DESC, pmid
LIMIT $k
"""

# Over-fetch ``$fetch`` candidates from the index, filter, then re-score the survivors
# exactly (the index may be quantised) and keep the top ``$k``.
VECTOR_SEARCH_INDEX = (
    """
CALL db.index.vector.queryNodes('article_embedding', $fetch, $vector) YIELD node AS a
WITH a WHERE"""
    + _FILTER
    + """
WITH a, vector.similarity.cosine(a.embedding, $vector) AS s"""
    + _RETURN_HIT
)

# Exact scoring starts from the most selective filter that is set, so a fallback scan
# touches only the candidate articles: the MeSH descriptors' articles, the journals'
# articles, a year range through the year index, or (no filter) every article.
_EXACT_STARTS = {
    "mesh": """
MATCH (t:MeshTerm) WHERE t.ui IN $mesh_uis
MATCH (t)<-[:HAS_MESH]-(a:Article)
WITH DISTINCT a""",
    "journal": """
MATCH (j:Journal) WHERE j.id IN $journal_ids
MATCH (j)<-[:PUBLISHED_IN]-(a:Article)
WITH DISTINCT a""",
    "year": """
MATCH (a:Article) WHERE a.year >= $year_lo AND a.year <= $year_hi
WITH a""",
    "all": """
MATCH (a:Article)
WITH a""",
}
EXACT_STARTS = tuple(_EXACT_STARTS)


def _exact_search(start: str) -> str:
    return (
        _EXACT_STARTS[start]
        + """
WHERE a.embedding IS NOT NULL AND size(a.embedding) = size($vector) AND"""
        + _FILTER
        + """
WITH a, vector.similarity.cosine(a.embedding, $vector) AS s"""
        + _RETURN_HIT
    )


#: Exact top-k over the filtered vectors, by starting point.
VECTOR_SEARCH_EXACT: dict[str, str] = {start: _exact_search(start) for start in _EXACT_STARTS}

# "Similar but not cited": near in vector space, not within one CITES hop of the query.
_NOT_CITED = """
  AND a <> q AND NOT EXISTS { (q)-[:CITES]-(a) }
"""

RECOMMEND_INDEX = (
    """
MATCH (q:Article {pmid: $pmid})
CALL db.index.vector.queryNodes('article_embedding', $fetch, q.embedding) YIELD node AS a
WITH q, a WHERE"""
    + _FILTER
    + _NOT_CITED
    + """
WITH a, vector.similarity.cosine(a.embedding, q.embedding) AS s"""
    + _RETURN_HIT
)


def _exact_recommend(start: str) -> str:
    return (
        """
MATCH (q:Article {pmid: $pmid})
CALL (q) {"""
        + _EXACT_STARTS[start]
        + """
  WHERE a.embedding IS NOT NULL AND size(a.embedding) = size(q.embedding) AND"""
        + _FILTER
        + _NOT_CITED
        + """
  RETURN a, vector.similarity.cosine(a.embedding, q.embedding) AS s
}
WITH a, s"""
        + _RETURN_HIT
    )


#: Exact "similar but not cited", by starting point.
RECOMMEND_EXACT: dict[str, str] = {start: _exact_recommend(start) for start in _EXACT_STARTS}


def _cited_neighbours(hops: int) -> str:
    # ``WITH DISTINCT b`` right after the variable-length pattern lets the planner use a
    # pruning breadth-first expand instead of enumerating every path.
    return f"""
MATCH (q:Article {{pmid: $pmid}})
MATCH (q)-[:CITES*1..{hops}]-(b:Article)
WITH DISTINCT q, b
WHERE b <> q AND b.embedding IS NOT NULL AND size(b.embedding) = size(q.embedding)
WITH q, b, vector.similarity.cosine(q.embedding, b.embedding) AS s
ORDER BY s DESC, b.pmid
LIMIT $k
MATCH p = shortestPath((q)-[:CITES*..{hops}]-(b))
RETURN b.pmid AS pmid, b.title AS title, b.year AS year, b.journal_id AS journal,
       2 * s - 1 AS score, length(p) AS hops
ORDER BY score DESC, pmid
"""


#: Citation-aware neighbours within ``h`` undirected CITES hops, ranked by cosine.
CITED_NEIGHBOURS: dict[int, str] = {h: _cited_neighbours(h) for h in range(1, MAX_HOPS + 1)}


def cited_neighbours_query(hops: int) -> str:
    """The CITED_NEIGHBOURS statement for ``hops`` (an int in ``1..MAX_HOPS``)."""
    if isinstance(hops, bool) or not isinstance(hops, int) or not 1 <= hops <= MAX_HOPS:
        raise ValueError(f"hops must be an integer from 1 to {MAX_HOPS}, not {hops!r}")
    return CITED_NEIGHBOURS[hops]


# Blended score: alpha * cosine + (1 - alpha) * link count / max link count over the
# candidates. Candidates: the vector top ``$fetch`` plus every linked article with a vector.
_BLEND_LINKS = {
    "cocitation": "(q)<-[:CITES]-(:Article)-[:CITES]->(b)",
    "coupling": "(q)-[:CITES]->(:Article)<-[:CITES]-(b)",
}

_BLEND_VECTOR_CANDIDATES = {
    "index": """
  CALL db.index.vector.queryNodes('article_embedding', $fetch, q.embedding) YIELD node AS b
  RETURN b""",
    "exact": """
  MATCH (b:Article)
  WHERE b.embedding IS NOT NULL AND size(b.embedding) = size(q.embedding)
  WITH b ORDER BY vector.similarity.cosine(b.embedding, q.embedding) DESC
  LIMIT $fetch
  RETURN b""",
}


def _blended(relation: str, mode: str) -> str:
    link = _BLEND_LINKS[relation]
    return f"""
MATCH (q:Article {{pmid: $pmid}})
CALL (q) {{{_BLEND_VECTOR_CANDIDATES[mode]}
  UNION
  MATCH {link}
  RETURN b
}}
WITH q, b
WHERE b <> q AND b.embedding IS NOT NULL AND size(b.embedding) = size(q.embedding)
WITH q, b, 2 * vector.similarity.cosine(q.embedding, b.embedding) - 1 AS cosine,
     COUNT {{ {link} }} AS links
WITH collect({{b: b, cosine: cosine, links: links}}) AS rows, max(links) AS top
UNWIND rows AS r
WITH r.b AS b, r.cosine AS cosine, r.links AS links,
     CASE WHEN top > 0 THEN toFloat(r.links) / top ELSE 0.0 END AS links_norm
RETURN b.pmid AS pmid, b.title AS title, b.year AS year, b.journal_id AS journal,
       $alpha * cosine + (1 - $alpha) * links_norm AS score,
       cosine, links, links_norm
ORDER BY score DESC, pmid
LIMIT $k
"""


#: Blended statements by (relation, candidate source).
BLENDED: dict[tuple[str, str], str] = {
    (rel, mode): _blended(rel, mode) for rel in _BLEND_LINKS for mode in _BLEND_VECTOR_CANDIDATES
}
BLEND_RELATIONS = tuple(_BLEND_LINKS)

# --- explain --------------------------------------------------------------------------------

EXPLAIN_PAIR = """
MATCH (q:Article {pmid: $pmid}), (b:Article {pmid: $other})
RETURN q.pmid AS pmid, q.title AS title, b.pmid AS other, b.title AS other_title,
       CASE WHEN q.embedding IS NULL OR b.embedding IS NULL
              OR size(q.embedding) <> size(b.embedding) THEN null
            ELSE 2 * vector.similarity.cosine(q.embedding, b.embedding) - 1 END AS cosine,
       COUNT { (q)<-[:CITES]-(:Article)-[:CITES]->(b) } AS cocitations,
       COUNT { (q)-[:CITES]->(:Article)<-[:CITES]-(b) } AS shared_references
"""

EXPLAIN_SHARED_MESH = """
MATCH (q:Article {pmid: $pmid})-[hq:HAS_MESH]->(m:MeshTerm)
      <-[hb:HAS_MESH]-(b:Article {pmid: $other})
RETURN m.ui AS ui, m.name AS name, coalesce(hq.major, false) AND coalesce(hb.major, false)
       AS major_in_both
ORDER BY major_in_both DESC, name
"""

# Undirected shortest citation paths of length <= 3; each step keeps its direction.
EXPLAIN_PATHS = """
MATCH (q:Article {pmid: $pmid}), (b:Article {pmid: $other})
WHERE q <> b
MATCH p = allShortestPaths((q)-[:CITES*..3]-(b))
WITH p LIMIT $max_paths
RETURN [n IN nodes(p) | n.pmid] AS pmids,
       [n IN nodes(p) | n.title] AS titles,
       [r IN relationships(p) | startNode(r).pmid] AS citing
"""

# --- full-text (BM25) and hybrid search -----------------------------------------------------

#: The Lucene index created with the schema (``graph/schema.py``).
FULLTEXT_INDEX = "article_text"

SHOW_FULLTEXT_INDEX = """
SHOW FULLTEXT INDEXES YIELD name, state
WHERE name = $name
RETURN name, state
"""

# Over-fetch ``$fetch`` BM25 hits (the query text is already escaped for Lucene), drop
# deleted articles and apply the filters, keep the top ``$k`` by BM25 score.
FULLTEXT_SEARCH = (
    """
CALL db.index.fulltext.queryNodes('article_text', $query, {limit: $fetch})
YIELD node AS a, score AS s
WITH a, s WHERE coalesce(a.deleted, false) = false AND"""
    + _FILTER
    + """
RETURN a.pmid AS pmid, a.title AS title, a.year AS year, a.journal_id AS journal,
       s AS score
ORDER BY score DESC, pmid
LIMIT $k
"""
)

# --- graph-aware related articles -----------------------------------------------------------
# One statement generates the candidates of a query article q and every feature the ranker
# (embeddings/related.py) scores them with. The query article's OWN citations are never read:
# every CITES edge used below has two endpoints that are not q (``x <> q``, ``r <> q``,
# ``b <> q``, seeds exclude q), so an article whose reference list is unknown (or hidden, in
# the evaluation) is ranked exactly as it would be without those edges.
#
# 1. seeds: q's ``$seeds`` nearest vector neighbours (cosine c_n);
# 2. graph candidates b, from each seed n, weighted by c_n: n cites b, b cites n, b co-cited
#    with n (an x cites both), b coupled with n (both cite an r whose in-degree is at most
#    ``$max_fanout``: a reference everybody cites says little and costs much); the
#    ``$graph_limit`` best by total weight are kept;
# 3. vector candidates: q's ``$fetch`` nearest neighbours;
# 4. for the union: cosine to q, the citation count of b (q's citation excluded), the IDF
#    weight of the MeSH descriptors b shares with q (IDF = ln(n_articles / (1 + df))), and
#    both years.

_RELATED_VECTOR = {
    "index": """
CALL db.index.vector.queryNodes('article_embedding', $fetch, q.embedding) YIELD node AS n, score
WITH q, qms, qidf, n, 2 * score - 1 AS c
WHERE n <> q""",
    "exact": """
MATCH (n:Article)
WHERE n <> q AND n.embedding IS NOT NULL AND size(n.embedding) = size(q.embedding)
WITH q, qms, qidf, n, 2 * vector.similarity.cosine(n.embedding, q.embedding) - 1 AS c
ORDER BY c DESC, n.pmid
LIMIT $fetch""",
}

_RELATED_QUERY_MESH = """
CALL (q) {
  OPTIONAL MATCH (q)-[:HAS_MESH]->(m:MeshTerm)
  WITH m WHERE m IS NOT NULL
  // ln(n / (1 + df)), never below 0 (a descriptor on most articles says nothing)
  WITH m, log(toFloat($n_articles) / (1 + COUNT { (m)<-[:HAS_MESH]-() })) AS raw
  WITH m, CASE WHEN raw > 0 THEN raw ELSE 0.0 END AS idf
  RETURN collect(m) AS qms, collect(idf) AS qidf
}
WITH q, qms, qidf"""

_RELATED_BODY = """
WITH q, qms, qidf, n, c ORDER BY c DESC, n.pmid
WITH q, qms, qidf, collect(n) AS vnodes, collect(c) AS vcos
WITH q, qms, qidf, vnodes, vnodes[..$seeds] AS seeds, vcos[..$seeds] AS seedcos
CALL (q, seeds, seedcos) {
  UNWIND range(0, size(seeds) - 1) AS i
  WITH q, seeds[i] AS n, seedcos[i] AS c
  CALL (q, n, c) {
    MATCH (n)-[:CITES]->(b:Article) WHERE b <> q
    RETURN b, 0 AS kind, c AS w
    UNION ALL
    MATCH (n)<-[:CITES]-(b:Article) WHERE b <> q
    RETURN b, 1 AS kind, c AS w
    UNION ALL
    MATCH (n)<-[:CITES]-(x:Article)-[:CITES]->(b:Article)
    WHERE x <> q AND b <> q AND b <> n
    RETURN b, 2 AS kind, c AS w
    UNION ALL
    MATCH (n)-[:CITES]->(r:Article)
    WHERE r <> q AND COUNT { (r)<-[:CITES]-() } <= $max_fanout
    MATCH (r)<-[:CITES]-(b:Article) WHERE b <> q AND b <> n
    RETURN b, 3 AS kind, c AS w
  }
  WITH b,
       sum(CASE kind WHEN 0 THEN w ELSE 0.0 END) AS cited_by,
       sum(CASE kind WHEN 1 THEN w ELSE 0.0 END) AS cites,
       sum(CASE kind WHEN 2 THEN w ELSE 0.0 END) AS cocited,
       sum(CASE kind WHEN 3 THEN w ELSE 0.0 END) AS coupled
  // after the aggregation: one property read per distinct article, not per path
  WHERE b.embedding IS NOT NULL
  ORDER BY cited_by + cites + cocited + coupled DESC, b.pmid
  LIMIT $graph_limit
  RETURN collect({b: b, cited_by: cited_by, cites: cites, cocited: cocited,
                  coupled: coupled}) AS graph
}
CALL (graph, vnodes) {
  UNWIND graph AS g
  RETURN g.b AS b, g.cited_by AS cited_by, g.cites AS cites, g.cocited AS cocited,
         g.coupled AS coupled
  UNION ALL
  UNWIND vnodes AS b
  RETURN b, 0.0 AS cited_by, 0.0 AS cites, 0.0 AS cocited, 0.0 AS coupled
}
WITH q, qms, qidf, b, max(cited_by) AS cited_by, max(cites) AS cites,
     max(cocited) AS cocited, max(coupled) AS coupled
WITH q, qms, qidf, b AS a, cited_by, cites, cocited, coupled WHERE"""

_RELATED_FEATURES = """
WITH q, qms, qidf, a, cited_by, cites, cocited, coupled,
     [(a)-[:HAS_MESH]->(m:MeshTerm) WHERE m IN qms | m] AS shared
RETURN a.pmid AS pmid, a.title AS title, a.year AS year, a.journal_id AS journal,
       q.year AS query_year,
       2 * vector.similarity.cosine(q.embedding, a.embedding) - 1 AS cosine,
       cited_by, cites, cocited, coupled,
       COUNT { (x:Article)-[:CITES]->(a) WHERE x <> q } AS citations,
       reduce(s = 0.0, i IN range(0, size(qms) - 1) |
              s + CASE WHEN qms[i] IN shared THEN qidf[i] ELSE 0.0 END) AS mesh_shared_idf,
       reduce(s = 0.0, x IN qidf | s + x) AS mesh_query_idf
"""

# "Similar but not cited" keeps candidates that are not one CITES hop from q: the only place
# q's edges are read, to exclude (never to score).
_RELATED_NOT_CITED = "\n  AND NOT EXISTS { (q)-[:CITES]-(a) }"


def _related(mode: str, not_cited: bool) -> str:
    return (
        "\nMATCH (q:Article {pmid: $pmid})"
        + _RELATED_QUERY_MESH
        + _RELATED_VECTOR[mode]
        + _RELATED_BODY
        + _FILTER
        + (_RELATED_NOT_CITED if not_cited else "")
        + _RELATED_FEATURES
    )


#: Candidates with features, by (vector source, exclude q's one-hop citations).
RELATED: dict[tuple[str, bool], str] = {
    (mode, nc): _related(mode, nc) for mode in _RELATED_VECTOR for nc in (False, True)
}

# --- evaluation -----------------------------------------------------------------------------

# Citation pairs between articles that have vectors (the related-article ground truth).
EVAL_CITATIONS = """
MATCH (a:Article)-[:CITES]->(b:Article)
WHERE a.embedding IS NOT NULL AND b.embedding IS NOT NULL AND a <> b
RETURN a.pmid AS citing, b.pmid AS cited
"""

# Plain text documents as articles (an evaluation corpus in its own, empty database).
LOAD_DOCUMENTS = """
UNWIND $rows AS r
MERGE (a:Article {pmid: r.pmid})
SET a.title = r.title, a.abstract = r.abstract, a.stub = false, a.embedding_model = $model_id
WITH a, r
CALL db.create.setNodeVectorProperty(a, 'embedding', r.vector)
"""
