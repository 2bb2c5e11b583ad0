"""Cypher of the GNN export and write-back, as named constants (values only as ``$params``).

Every read pages through articles in pmid order (``a.pmid > $after ... LIMIT $page``) or
takes a batch of PMIDs (``UNWIND $pmids``), so each transaction stays short.
"""

from __future__ import annotations

GRAPH_EMBEDDING_PROPERTY = "graph_embedding"

# Text articles (stub=false), a page at a time; the unique constraint's index serves the
# range seek and the order.
TEXT_ARTICLES_PAGE = """
MATCH (a:Article)
WHERE a.pmid > $after AND a.stub = false
WITH a ORDER BY a.pmid
LIMIT $page
RETURN a.pmid AS pmid
"""

# The same page with the stored text embedding (null when the article has none).
TEXT_ARTICLES_EMBEDDING_PAGE = """
MATCH (a:Article)
WHERE a.pmid > $after AND a.stub = false
WITH a ORDER BY a.pmid
LIMIT $page
RETURN a.pmid AS pmid, a.embedding AS vector
"""

# CITES out of a batch of text articles, with the cited article's stub flag; the caller
# keeps the ends that are nodes of the export (and counts each stub's citers).
CITES_FROM = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:CITES]->(b:Article)
WHERE a.pmid <> b.pmid
RETURN a.pmid AS source, b.pmid AS target, coalesce(b.stub, false) AS target_stub
"""

# Document frequency of every descriptor over text articles, and their number.
MESH_DOCUMENT_FREQUENCY = """
MATCH (m:MeshTerm)<-[:HAS_MESH]-(a:Article)
WHERE a.stub = false
RETURN m.ui AS ui, count(a) AS df
"""

TEXT_ARTICLE_COUNT = "MATCH (a:Article) WHERE a.stub = false RETURN count(a) AS n"

# Shared-MeSH neighbours of a batch of articles over the descriptors in $idf (those under
# the document-frequency cap), at least $k shared and summed IDF >= $min_idf; each pair once.
SHARED_MESH_EDGES = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
CALL (a) {
  MATCH (a)-[:HAS_MESH]->(m:MeshTerm)<-[:HAS_MESH]-(b:Article)
  WHERE $idf[m.ui] IS NOT NULL AND b.stub = false AND b.pmid > a.pmid
  WITH b, count(m) AS shared, sum($idf[m.ui]) AS weight
  WHERE shared >= $k AND weight >= $min_idf
  RETURN b
}
RETURN a.pmid AS source, b.pmid AS target
"""

WRITE_GRAPH_EMBEDDINGS = """
UNWIND $rows AS r
MATCH (a:Article {pmid: r.pmid})
CALL db.create.setNodeVectorProperty(a, 'graph_embedding', r.vector)
SET a.graph_embedding_run = $run
"""
