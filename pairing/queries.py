"""Named Cypher statements of the pairing package.

Values travel only as ``$parameters``. The one exception is a path length: Cypher cannot
take a quantifier bound as a parameter, so ``no_path_within(hops)`` builds the few
hop-limited statements from a validated small integer (never from user text).

Conventions: a *text article* is ``(:Article {stub: false})`` (stubs are known only as
cited PMIDs; deleted articles become stubs). Symmetric strategies emit each pair once with
``pmid_a < pmid_b`` (string order). Pairwise candidate queries take a batch of anchor
PMIDs (``$anchors``) and aggregate per anchor in a ``CALL (a) { ... }`` subquery, so
memory stays bounded by one article's neighbourhood instead of by all pairs of the graph,
and batches can run in parallel transactions; results are sorted again in Python, so the
order never depends on the planner or on the batching.
"""

from __future__ import annotations

from pubgraph.graph import queries as graph_queries

# --- graph facts ------------------------------------------------------------------------

GRAPH_FINGERPRINT = """
MATCH (a:Article)
WHERE a.stub = false
WITH count(a) AS text_articles, sum(toInteger(a.pmid)) AS pmid_sum,
     sum(CASE WHEN a.embedding IS NULL THEN 0 ELSE 1 END) AS embedded
RETURN text_articles, pmid_sum, embedded,
       COUNT { MATCH (s:Article) WHERE s.stub = true } AS stubs,
       COUNT { ()-[:CITES]->() } AS cites,
       COUNT { ()-[:HAS_MESH]->() } AS has_mesh,
       COUNT { (:MeshTerm) } AS mesh_terms,
       COUNT { ()-[:BROADER]->() } AS broader
"""

ARTICLES_FOR_SPLIT = """
MATCH (a:Article)
WHERE a.stub = false
RETURN a.pmid AS pmid, a.year AS year
ORDER BY pmid
"""

# --- positives --------------------------------------------------------------------------

CITES_PAIRS = """
MATCH (a:Article)-[:CITES]->(b:Article)
WHERE a.stub = false AND b.stub = false AND a <> b
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, 1.0 AS score
ORDER BY pmid_a, pmid_b
"""

# A and B are cited together by >= $k citers (any citer, stubs included: a citer is any
# article with a reference list). Score: Salton |C(A) ∩ C(B)| / sqrt(|C(A)|·|C(B)|) or
# Jaccard |∩| / |∪| over the citer sets.
CO_CITATION_PAIRS = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.stub = false AND COUNT { (a)<-[:CITES]-(:Article) } >= $k
CALL (a) {
  MATCH (a)<-[:CITES]-(c:Article)-[:CITES]->(b:Article)
  WHERE b.stub = false AND b.pmid > a.pmid
  WITH b, count(DISTINCT c) AS shared
  WHERE shared >= $k
  RETURN b, shared
}
WITH a, b, shared,
     COUNT { (a)<-[:CITES]-(:Article) } AS na,
     COUNT { (b)<-[:CITES]-(:Article) } AS nb
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, shared,
       CASE $weight
         WHEN 'jaccard' THEN toFloat(shared) / (na + nb - shared)
         ELSE shared / sqrt(toFloat(na) * nb)
       END AS score
"""

# A and B (both with text) cite >= $k common references (stubs count).
BIB_COUPLING_PAIRS = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.stub = false AND COUNT { (a)-[:CITES]->(:Article) } >= $k
CALL (a) {
  MATCH (a)-[:CITES]->(r:Article)<-[:CITES]-(b:Article)
  WHERE b.stub = false AND b.pmid > a.pmid
  WITH b, count(DISTINCT r) AS shared
  WHERE shared >= $k
  RETURN b, shared
}
WITH a, b, shared,
     COUNT { (a)-[:CITES]->(:Article) } AS na,
     COUNT { (b)-[:CITES]->(:Article) } AS nb
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, shared,
       CASE $weight
         WHEN 'jaccard' THEN toFloat(shared) / (na + nb - shared)
         ELSE shared / sqrt(toFloat(na) * nb)
       END AS score
"""

# N for the IDF: text articles with at least one (major, with $major_only) descriptor.
MESH_ARTICLE_COUNT = """
MATCH (a:Article)
WHERE a.stub = false
  AND EXISTS { (a)-[r:HAS_MESH]->(:MeshTerm) WHERE r.major OR NOT $major_only }
RETURN count(a) AS n
"""

MESH_DOCUMENT_FREQUENCIES = """
MATCH (a:Article)-[r:HAS_MESH]->(m:MeshTerm)
WHERE a.stub = false AND (r.major OR NOT $major_only)
RETURN m.ui AS ui, count(DISTINCT a) AS df
ORDER BY ui
"""

# $idf maps each eligible descriptor UI (df within the cap) to log(N / df). The order and
# text checks on b run after the aggregation, once per pair instead of once per shared
# descriptor: aggregating both directions costs less than reading b.pmid on every row.
SHARED_MESH_PAIRS = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.stub = false
CALL (a) {
  MATCH (a)-[:HAS_MESH]->(m:MeshTerm)<-[:HAS_MESH]-(b:Article)
  WHERE $idf[m.ui] IS NOT NULL
  WITH b, count(m) AS shared, sum($idf[m.ui]) AS weight
  WHERE shared >= $k AND weight >= $min_idf AND b.pmid > a.pmid AND b.stub = false
  RETURN b, shared, weight
}
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, shared, weight AS score
"""

# The same over major topics only (both HAS_MESH major).
SHARED_MESH_MAJOR_PAIRS = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.stub = false
CALL (a) {
  MATCH (a)-[ra:HAS_MESH]->(m:MeshTerm)<-[rb:HAS_MESH]-(b:Article)
  WHERE ra.major AND $idf[m.ui] IS NOT NULL AND rb.major
  WITH b, count(m) AS shared, sum($idf[m.ui]) AS weight
  WHERE shared >= $k AND weight >= $min_idf AND b.pmid > a.pmid AND b.stub = false
  RETURN b, shared, weight
}
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, shared, weight AS score
"""

# --- negatives --------------------------------------------------------------------------

MESH_HIERARCHY_LOADED = """
RETURN COUNT { MATCH (m:MeshTerm) WHERE size(coalesce(m.tree_numbers, [])) > 0 }
         AS with_tree_numbers,
       COUNT { ()-[:BROADER]->() } AS broader
"""

# Text articles with their descriptors' tree numbers (descriptors without tree numbers
# are skipped; $excluded holds descriptors above the document-frequency cap).
ARTICLE_TREE_NUMBERS = """
MATCH (a:Article)-[r:HAS_MESH]->(m:MeshTerm)
WHERE a.stub = false AND size(coalesce(m.tree_numbers, [])) > 0
  AND NOT m.ui IN $excluded AND (r.major OR NOT $major_only)
WITH a, collect(m.tree_numbers) AS trees
RETURN a.pmid AS pmid, reduce(acc = [], t IN trees | acc + t) AS tree_numbers
ORDER BY pmid
"""

# Top-level MeSH trees (``C04``) of the major topics of text articles.
MAJOR_BRANCH_MEMBERS = """
MATCH (a:Article)-[r:HAS_MESH]->(m:MeshTerm)
WHERE a.stub = false AND r.major AND size(coalesce(m.tree_numbers, [])) > 0
UNWIND m.tree_numbers AS tree_number
WITH split(tree_number, '.')[0] AS branch, a.pmid AS pmid
RETURN branch, collect(DISTINCT pmid) AS members
ORDER BY branch
"""

# SPECTER's citation-of-citation: A cites X cites B, and A and B are not directly linked.
TWO_HOP_CANDIDATES = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})-[:CITES]->(x:Article)-[:CITES]->(b:Article)
WHERE b.stub = false AND b <> a AND NOT EXISTS { (a)-[:CITES]-(b) }
WITH a, b, count(DISTINCT x) AS paths
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, paths AS score
ORDER BY pmid_a, pmid_b
"""

EMBEDDED_ARTICLES = """
MATCH (a:Article)
WHERE a.stub = false AND a.embedding IS NOT NULL
RETURN count(a) AS n
"""

ARTICLE_VECTOR_INDEXES = """
SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, state
WHERE 'Article' IN labelsOrTypes AND 'embedding' IN properties
RETURN name, state
ORDER BY name
"""

# The $top_k nearest text articles of each anchor by the vector index (self excluded later).
VECTOR_NEIGHBOURS = """
UNWIND $anchors AS pmid
MATCH (a:Article {pmid: pmid})
WHERE a.embedding IS NOT NULL
CALL db.index.vector.queryNodes($index, $top_k, a.embedding) YIELD node, score
WITH a, node, score
WHERE node <> a AND node.stub = false
RETURN a.pmid AS pmid_a, node.pmid AS pmid_b, score
"""

ARTICLE_EMBEDDINGS = """
MATCH (a:Article)
WHERE a.stub = false AND a.embedding IS NOT NULL
RETURN a.pmid AS pmid, a.embedding AS embedding
ORDER BY pmid
"""


def _hops(hops: int) -> int:
    if isinstance(hops, bool) or not isinstance(hops, int) or not 1 <= hops <= 4:
        raise ValueError(f"hops must be an integer in 1..4, got {hops!r}")
    return hops


def no_path_within(hops: int) -> str:
    """Keep the ``$pairs`` with no shared MeSH descriptor (outside ``$excluded``, the
    descriptors above a document-frequency cap) and no undirected CITES path of length
    <= ``hops`` (``random_distant`` and ``mesh_distant``)."""
    return f"""
UNWIND $pairs AS pair
MATCH (a:Article {{pmid: pair[0]}}), (b:Article {{pmid: pair[1]}})
WHERE NOT EXISTS {{
    (a)-[:HAS_MESH]->(m:MeshTerm)<-[:HAS_MESH]-(b) WHERE NOT m.ui IN $excluded
  }}
  AND NOT EXISTS {{ (a)-[:CITES]-{{1,{_hops(hops)}}}(b) }}
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b
"""


def hard_guard(hops: int) -> str:
    """Keep the ``$pairs`` not linked by CITES within ``hops`` (undirected) and sharing
    fewer than ``$guard_major_k`` major MeSH descriptors (false-negative guard of ``hard``)."""
    return f"""
UNWIND $pairs AS pair
MATCH (a:Article {{pmid: pair[0]}}), (b:Article {{pmid: pair[1]}})
WHERE NOT EXISTS {{ (a)-[:CITES]-{{1,{_hops(hops)}}}(b) }}
  AND COUNT {{ (a)-[ra:HAS_MESH]->(:MeshTerm)<-[rb:HAS_MESH]-(b) WHERE ra.major AND rb.major }}
      < $guard_major_k
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b
"""


# --- runs -------------------------------------------------------------------------------

MERGE_PAIR_RUN = """
MERGE (r:PairRun {id: $id})
ON CREATE SET r.created = $created
SET r.strategy = $strategy, r.params = $params, r.seed = $seed, r.counts = $counts,
    r.duration = $duration, r.out = $out, r.updated = $created
RETURN r.created AS created
"""

LIST_PAIR_RUNS = """
MATCH (r:PairRun)
RETURN r.id AS id, r.strategy AS strategy, r.seed AS seed, r.created AS created,
       r.updated AS updated, r.duration AS duration, r.counts AS counts, r.out AS out,
       r.params AS params
ORDER BY coalesce(r.updated, r.created) DESC, id
"""

GET_PAIR_RUN = """
MATCH (r:PairRun)
WHERE r.id = $id OR r.id STARTS WITH $id
RETURN r.id AS id, r.strategy AS strategy, r.seed AS seed, r.created AS created,
       r.updated AS updated, r.duration AS duration, r.counts AS counts, r.out AS out,
       r.params AS params
ORDER BY id
"""

# --- exports ----------------------------------------------------------------------------

ARTICLE_TEXTS = graph_queries.ARTICLE_TEXTS

ARTICLE_MESH = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:HAS_MESH]->(m:MeshTerm)
RETURN a.pmid AS pmid, collect(m.ui) AS mesh
"""

TOTAL_MESH_IN_USE = """
MATCH (a:Article)-[:HAS_MESH]->(m:MeshTerm)
WHERE a.stub = false
RETURN count(DISTINCT m) AS n
"""

# Held-out relevance: the text articles each of $pmids is citation-related to: it cites them
# or is cited by them, is co-cited with them, or shares >= $min_shared references with them
# (bibliographic coupling; stubs count as references).
CITATION_RELATED = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
CALL (a) {
  MATCH (a)-[:CITES]-(b:Article)
  WHERE b.stub = false AND b <> a
  RETURN b.pmid AS rel
  UNION
  MATCH (a)<-[:CITES]-(:Article)-[:CITES]->(b:Article)
  WHERE b.stub = false AND b <> a
  RETURN b.pmid AS rel
  UNION
  MATCH (a)-[:CITES]->(r:Article)<-[:CITES]-(b:Article)
  WHERE b.stub = false AND b <> a
  WITH b, count(DISTINCT r) AS shared
  WHERE shared >= $min_shared
  RETURN b.pmid AS rel
}
RETURN a.pmid AS pmid, collect(rel) AS relevant_pmids
"""
