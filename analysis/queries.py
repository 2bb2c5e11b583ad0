"""Named Cypher statements of the analysis package.

Every value travels as a ``$parameter``; every batch write is one ``UNWIND $rows``. A run's
nodes are ``(:AnalysisRun {id})`` and ``(:Topic {key: "<run>:<id>", run, id})``; its
relationships carry ``run`` where they start from an Article (``IN_TOPIC``), so two runs never
share a relationship and deleting a run's topics deletes everything of the run.
"""

from __future__ import annotations

# --- inputs ---------------------------------------------------------------------------------

EMBEDDING_MODELS = """
MATCH (m:EmbeddingModel)
RETURN m.id AS id, m.name AS name, m.dimension AS dimension, coalesce(m.count, 0) AS count,
       toString(m.updated) AS updated
ORDER BY m.updated DESC
"""

# One page of a model's vectors (text articles only), in pmid order so pages never overlap.
VECTORS_PAGE = """
MATCH (a:Article {embedding_model: $model})
WHERE a.pmid > $after AND a.embedding IS NOT NULL AND NOT coalesce(a.stub, false)
WITH a ORDER BY a.pmid
LIMIT $page
RETURN a.pmid AS pmid, a.embedding AS vector, a.year AS year, a.title AS title,
       a.abstract AS abstract
"""

# One row per article (lists), not per heading: each record costs a round of the driver's
# decoding, and an article has ~10 headings and ~30 references.
ARTICLE_MESH = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[r:HAS_MESH]->(m:MeshTerm)
RETURN pmid, collect(m.ui) AS uis, collect(coalesce(r.major, false)) AS majors
"""

MESH_TERMS = """
UNWIND $uis AS ui
MATCH (m:MeshTerm {ui: ui})
RETURN ui, m.name AS name, m.tree_numbers AS tree_numbers
"""

# Every CITES edge that touches the analysed set: its reference lists (to stubs too) and the
# articles citing it (co-citation). Both directions are needed; duplicates are dropped later.
CITES_OUT = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:CITES]->(b:Article)
RETURN pmid AS src, collect(b.pmid) AS dst
"""

CITES_IN = """
UNWIND $pmids AS pmid
MATCH (c:Article)-[:CITES]->(a:Article {pmid: pmid})
RETURN collect(c.pmid) AS src, pmid AS dst
"""

# --- write-back (one run) -------------------------------------------------------------------

DELETE_RUN_TOPICS = """
MATCH (t:Topic {run: $run})
CALL (t) { DETACH DELETE t } IN TRANSACTIONS OF 200 ROWS
"""

# IN_TOPIC relationships of a run are removed with its topics; a big topic holds thousands,
# so they go first, in chunks, to keep each transaction small.
DELETE_RUN_MEMBERSHIPS = """
MATCH (t:Topic {run: $run})<-[r:IN_TOPIC]-()
CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS
"""

DELETE_RUN_NODE = """
MATCH (r:AnalysisRun {id: $run})
DETACH DELETE r
"""

MERGE_RUN = """
MERGE (r:AnalysisRun {id: $id})
SET r.method = $method, r.parameters = $parameters, r.embedding_model = $embedding_model,
    r.created = datetime($created), r.metrics = $metrics, r.n_articles = $n_articles,
    r.n_topics = $n_topics, r.years = $years, r.year_totals = $year_totals,
    r.flagged_years = $flagged_years, r.partial_years = $partial_years,
    r.trend_method = $trend_method,
    r.fingerprint = $fingerprint, r.seed = $seed, r.out_dir = $out_dir
"""

CREATE_TOPICS = """
UNWIND $rows AS row
MATCH (r:AnalysisRun {id: $run})
CREATE (t:Topic {key: $run + ':' + toString(row.id), run: $run, id: row.id})
SET t.label = row.label, t.size = row.size, t.trend = row.trend,
    t.trend_method = row.trend_method, t.q = row.q, t.p = row.p, t.effect = row.effect,
    t.ci_low = row.ci_low, t.ci_high = row.ci_high, t.kendall_tau = row.kendall_tau,
    t.kendall_p = row.kendall_p, t.theil_slope = row.theil_slope, t.terms = row.terms,
    t.descriptors = row.descriptors, t.years = row.years, t.counts = row.counts,
    t.shares = row.shares, t.representatives = row.representatives,
    t.most_cited = row.most_cited, t.mean_year = row.mean_year
CREATE (t)-[:OF_RUN]->(r)
"""

CREATE_MEMBERSHIPS = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (t:Topic {key: $run + ':' + toString(row.topic)})
CREATE (a)-[m:IN_TOPIC {run: $run}]->(t)
SET m.x = row.x, m.y = row.y, m.pagerank = row.pagerank, m.in_degree = row.in_degree,
    m.participation = row.participation, m.centrality = row.centrality,
    m.reassigned = row.reassigned
"""

CREATE_SIGNATURES = """
UNWIND $rows AS row
MATCH (t:Topic {key: $run + ':' + toString(row.topic)})
MATCH (m:MeshTerm {ui: row.ui})
CREATE (t)-[s:SIGNATURE {run: $run}]->(m)
SET s.lift = row.lift, s.q = row.q, s.p = row.p, s.n = row.n_topic, s.share = row.share,
    s.rank = row.rank
"""

CREATE_RELATED = """
UNWIND $rows AS row
MATCH (a:Topic {key: $run + ':' + toString(row.source)})
MATCH (b:Topic {key: $run + ':' + toString(row.target)})
CREATE (a)-[r:RELATED {run: $run}]->(b)
SET r.similarity = row.similarity, r.citations = row.citations
"""

CREATE_MESH_TRENDS = """
UNWIND $rows AS row
MATCH (r:AnalysisRun {id: $run})
MATCH (m:MeshTerm {ui: row.ui})
CREATE (r)-[t:MESH_TREND]->(m)
SET t.trend = row.trend, t.trend_method = row.trend_method, t.q = row.q, t.p = row.p,
    t.effect = row.effect, t.ci_low = row.ci_low, t.ci_high = row.ci_high, t.n = row.n
"""

# --- reads ----------------------------------------------------------------------------------

LIST_RUNS = """
MATCH (r:AnalysisRun)
RETURN r.id AS id, r.method AS method, r.embedding_model AS embedding_model,
       toString(r.created) AS created, r.n_articles AS n_articles, r.n_topics AS n_topics,
       r.trend_method AS trend_method, r.parameters AS parameters, r.metrics AS metrics,
       r.out_dir AS out_dir
ORDER BY r.created DESC, r.id
"""

RUN = """
MATCH (r:AnalysisRun {id: $run})
RETURN r.id AS id, r.method AS method, r.embedding_model AS embedding_model,
       toString(r.created) AS created, r.n_articles AS n_articles, r.n_topics AS n_topics,
       r.trend_method AS trend_method, r.parameters AS parameters, r.metrics AS metrics,
       r.years AS years, r.year_totals AS year_totals, r.flagged_years AS flagged_years,
       r.partial_years AS partial_years,
       r.out_dir AS out_dir
"""

TOPICS = """
MATCH (t:Topic {run: $run})
RETURN t.id AS topic, t.label AS label, t.size AS size, t.trend AS trend,
       t.trend_method AS trend_method, t.q AS q, t.effect AS effect, t.ci_low AS ci_low,
       t.ci_high AS ci_high, t.p AS p, t.terms AS terms, t.descriptors AS descriptors,
       t.mean_year AS mean_year
ORDER BY t.size DESC, t.id
"""

TOPIC_YEARS = """
MATCH (t:Topic {run: $run})
RETURN t.id AS topic, t.label AS label, t.years AS years, t.counts AS counts
"""

TOPIC = """
MATCH (t:Topic {key: $key})
RETURN t {.*} AS topic
"""

TOPIC_SIGNATURE = """
MATCH (t:Topic {key: $key})-[s:SIGNATURE]->(m:MeshTerm)
RETURN m.ui AS ui, m.name AS name, s.lift AS lift, s.q AS q, s.n AS n, s.share AS share
ORDER BY s.rank
"""

TOPIC_RELATED = """
MATCH (t:Topic {key: $key})-[r:RELATED]-(o:Topic)
RETURN o.id AS topic, o.label AS label, r.similarity AS similarity,
       sum(CASE WHEN startNode(r) = t THEN r.citations ELSE 0 END) AS citations_out,
       sum(CASE WHEN startNode(r) = o THEN r.citations ELSE 0 END) AS citations_in
"""

ARTICLES_BY_PMID = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
RETURN a.pmid AS pmid, a.title AS title, a.year AS year
"""

# The given members of one topic (its most cited, listed on the Topic node): not the whole
# membership, which is thousands of rows on a large corpus.
TOPIC_MEMBERS = """
MATCH (t:Topic {key: $key})
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[m:IN_TOPIC]->(t)
RETURN a.pmid AS pmid, a.title AS title, a.year AS year, m.pagerank AS pagerank,
       m.in_degree AS in_degree, m.centrality AS centrality
"""

# Descriptor counts per year inside one topic (article-level presence).
TOPIC_MESH_YEARS = """
MATCH (t:Topic {key: $key})<-[:IN_TOPIC]-(a:Article)-[:HAS_MESH]->(m:MeshTerm)
WHERE m.ui IN $uis AND a.year IS NOT NULL
RETURN m.ui AS ui, m.name AS name, a.year AS year, count(DISTINCT a) AS count
"""

MAP_POINTS = """
MATCH (t:Topic {run: $run})<-[m:IN_TOPIC]-(a:Article)
WHERE m.x IS NOT NULL
  AND ($year_min IS NULL OR a.year >= $year_min)
  AND ($year_max IS NULL OR a.year <= $year_max)
RETURN a.pmid AS pmid, a.title AS title, a.year AS year, m.x AS x, m.y AS y,
       t.id AS topic, t.label AS label
"""

ARTICLE_TOPIC = """
MATCH (a:Article {pmid: $pmid})-[m:IN_TOPIC {run: $run}]->(t:Topic)
RETURN t.id AS topic, t.label AS label, t.trend AS trend, m.x AS x, m.y AS y,
       m.pagerank AS pagerank, m.in_degree AS in_degree, m.participation AS participation,
       m.centrality AS centrality, m.reassigned AS reassigned
"""

RUN_MESH_TRENDS = """
MATCH (r:AnalysisRun {id: $run})-[t:MESH_TREND]->(m:MeshTerm)
RETURN m.ui AS ui, m.name AS name, t.trend AS trend, t.trend_method AS trend_method,
       t.q AS q, t.effect AS effect, t.ci_low AS ci_low, t.ci_high AS ci_high, t.n AS n
ORDER BY t.q, t.effect DESC
"""

# Memberships of two runs over their common articles (``analyze diff``).
RUN_ASSIGNMENTS = """
MATCH (t:Topic {run: $run})<-[:IN_TOPIC]-(a:Article)
RETURN a.pmid AS pmid, t.id AS topic
"""
