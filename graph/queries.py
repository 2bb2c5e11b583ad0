"""Named Cypher statements of the graph package.

Every value travels as a ``$parameter``; every batch write is one ``UNWIND $rows``. The
loader runs each batch as one managed transaction made of the simple statements below,
in this order (see ``graph/loader.py``):

1. ``LOCK_ARTICLES``: lock the batch's articles (MERGE, so new ones too), then say which
   already have outgoing relationships (loaded before, by a concurrent load that committed
   first, or a stub with edges of an external edge list) and from which file their text
   came;
2. ``UPSERT_ARTICLES`` (a stub becomes a text article in place);
3. ``DELETE_STALE_*`` for the articles found in 1 (an update replaces the outgoing set);
4. nodes before relationships: ``MERGE_JOURNALS``, ``MERGE_AUTHORS``, ``MERGE_MESH_TERMS``,
   ``MERGE_STUBS``; then the relationships: ``LINK_*`` (MERGE) for the articles found in 1,
   ``CREATE_*`` for the others. An article without outgoing relationships cannot have a
   duplicate, the batch is one transaction and holds the articles' locks (a concurrent
   load of the same articles waits in step 1), so CREATE is exact and much cheaper than
   MERGE (no relationship-existence check, no lock on the far node's relationship chain);
5. ``DELETE_ORPHAN_*``: authors, journals and stubs that lost their last relationship.

Deletions (``DeleteCitation``) reuse the ``DELETE_STALE_*`` statements with empty new sets,
then ``CLEAR_DELETED_ARTICLES``, the ``DELETE_ORPHAN_*`` statements and
``DELETE_ISOLATED_ARTICLES``.
"""

from __future__ import annotations

# --- articles ---------------------------------------------------------------------------

ARTICLES_WITH_LINKS = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
WHERE EXISTS { (a)-->() }
RETURN a.pmid AS pmid
"""

# The first statement of every batch: take the write lock of each article of the batch (in
# PMID order, so two loads lock in the same order), creating the node if it is new, THEN
# look at its outgoing relationships. A second load of the same articles waits here until
# the first commits and then sees its relationships (read committed): it takes the MERGE
# path, never a second CREATE. ``SET`` then ``REMOVE`` of a scratch property is Cypher's
# way to take a node's write lock; the lock is held to the end of the transaction.
LOCK_ARTICLES = """
UNWIND $pmids AS pmid
MERGE (a:Article {pmid: pmid})
SET a._lock = true
REMOVE a._lock
RETURN a.pmid AS pmid,
       EXISTS { (a)-->() } AS linked,
       CASE WHEN coalesce(a.stub, true) THEN null ELSE a.source_file END AS source_file
"""

# Every content key is SET explicitly, null where the record has none (a null removes the
# property), so an update leaves no stale fields; properties written by other packages (e.g.
# embeddings) are kept. Explicit keys, unlike ``SET a += row.props``, plan without Eager.
UPSERT_ARTICLES = """
UNWIND $rows AS row
MERGE (a:Article {pmid: row.pmid})
SET a.title = row.title,
    a.abstract = row.abstract,
    a.year = row.year,
    a.pub_date = row.pub_date,
    a.medline_date = row.medline_date,
    a.doi = row.doi,
    a.pmcid = row.pmcid,
    a.language = row.language,
    a.publication_types = row.publication_types,
    a.keywords = row.keywords,
    a.journal_id = row.journal_id,
    a.source = row.source,
    a.source_file = row.source_file,
    a.stub = false,
    a.deleted = null
"""

# --- journals ---------------------------------------------------------------------------

MERGE_JOURNALS = """
UNWIND $rows AS row
MERGE (j:Journal {id: row.id})
SET j.title = coalesce(row.title, j.title),
    j.iso_abbreviation = coalesce(row.iso_abbreviation, j.iso_abbreviation),
    j.issn = coalesce(row.issn, j.issn)
"""

LINK_JOURNALS = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (j:Journal {id: row.journal_id})
MERGE (a)-[:PUBLISHED_IN]->(j)
"""

CREATE_PUBLISHED_IN = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (j:Journal {id: row.journal_id})
CREATE (a)-[:PUBLISHED_IN]->(j)
"""

DELETE_STALE_PUBLISHED_IN = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})-[r:PUBLISHED_IN]->(j:Journal)
WHERE row.journal_id IS NULL OR j.id <> row.journal_id
DELETE r
RETURN DISTINCT j.id AS id
"""

DELETE_ORPHAN_JOURNALS = """
UNWIND $ids AS id
MATCH (j:Journal {id: id})
WHERE NOT EXISTS { (j)--() }
DELETE j
"""

# --- authors ----------------------------------------------------------------------------

MERGE_AUTHORS = """
UNWIND $rows AS row
MERGE (x:Author {key: row.key})
SET x.last_name = coalesce(row.last_name, x.last_name),
    x.fore_name = coalesce(row.fore_name, x.fore_name),
    x.initials = coalesce(row.initials, x.initials),
    x.collective_name = coalesce(row.collective_name, x.collective_name)
"""

LINK_AUTHORS = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (x:Author {key: row.key})
MERGE (a)-[r:AUTHORED_BY]->(x)
SET r.position = row.position
"""

CREATE_AUTHORED_BY = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (x:Author {key: row.key})
CREATE (a)-[:AUTHORED_BY {position: row.position}]->(x)
"""

DELETE_STALE_AUTHORED_BY = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})-[r:AUTHORED_BY]->(x:Author)
WHERE NOT x.key IN row.keys
DELETE r
RETURN DISTINCT x.key AS key
"""

DELETE_ORPHAN_AUTHORS = """
UNWIND $keys AS key
MATCH (x:Author {key: key})
WHERE NOT EXISTS { (x)--() }
DELETE x
"""

# --- MeSH -------------------------------------------------------------------------------

# Article records name the descriptor as of their MeSH year; the latest record wins.
MERGE_MESH_TERMS = """
UNWIND $rows AS row
MERGE (m:MeshTerm {ui: row.ui})
SET m.name = coalesce(row.name, m.name)
"""

LINK_MESH = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (m:MeshTerm {ui: row.ui})
MERGE (a)-[r:HAS_MESH]->(m)
SET r.major = row.major,
    r.descriptor_major = row.descriptor_major,
    r.qualifiers = row.qualifiers,
    r.major_qualifiers = row.major_qualifiers
"""

CREATE_HAS_MESH = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})
MATCH (m:MeshTerm {ui: row.ui})
CREATE (a)-[:HAS_MESH {major: row.major, descriptor_major: row.descriptor_major,
                       qualifiers: row.qualifiers, major_qualifiers: row.major_qualifiers}]->(m)
"""

DELETE_STALE_HAS_MESH = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})-[r:HAS_MESH]->(m:MeshTerm)
WHERE NOT m.ui IN row.uis
DELETE r
"""

# --- citations --------------------------------------------------------------------------

MERGE_STUBS = """
UNWIND $pmids AS pmid
MERGE (b:Article {pmid: pmid})
ON CREATE SET b.stub = true
"""

LINK_CITES = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.src})
MATCH (b:Article {pmid: row.dst})
MERGE (a)-[:CITES]->(b)
"""

CREATE_CITES = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.src})
MATCH (b:Article {pmid: row.dst})
CREATE (a)-[:CITES]->(b)
"""

# Only citations that came from article records (no ``source``) are replaced; edges of an
# external edge list (``source`` set, see ``LOAD_EDGE_LIST``) are left alone.
DELETE_STALE_CITES = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.pmid})-[r:CITES]->(b:Article)
WHERE r.source IS NULL AND NOT b.pmid IN row.refs
DELETE r
RETURN DISTINCT b.pmid AS pmid
"""

# The hint keeps the planner on the unique PMID index: given the predicate on ``stub`` it
# may seek the ``stub`` index instead, which after a delete in the same transaction can
# return the deleted node (EntityNotFound) and is slow anyway (every stub).
DELETE_ORPHAN_STUBS = """
UNWIND $pmids AS pmid
MATCH (b:Article {pmid: pmid})
USING INDEX b:Article(pmid)
WHERE b.stub = true AND NOT EXISTS { (b)--() }
DELETE b
"""

# --- deletions (DeleteCitation) ---------------------------------------------------------

CLEAR_DELETED_ARTICLES = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
REMOVE a.title, a.abstract, a.year, a.pub_date, a.medline_date, a.doi, a.pmcid, a.language,
       a.publication_types, a.keywords, a.journal_id, a.source, a.source_file
SET a.stub = true, a.deleted = true
RETURN count(a) AS deleted
"""

DELETE_ISOLATED_ARTICLES = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
WHERE NOT EXISTS { (a)--() }
DELETE a
RETURN count(*) AS removed
"""

# --- MeSH hierarchy (graph/mesh.py) -------------------------------------------------------

# The descriptor file names a term only where no article record has named it yet.
MERGE_MESH_DESCRIPTORS = """
UNWIND $rows AS row
MERGE (m:MeshTerm {ui: row.ui})
SET m.name = coalesce(m.name, row.name), m.tree_numbers = row.tree_numbers
"""

DELETE_STALE_BROADER = """
UNWIND $rows AS row
MATCH (m:MeshTerm {ui: row.ui})-[r:BROADER]->(p:MeshTerm)
WHERE NOT p.ui IN row.parents
DELETE r
"""

LINK_BROADER = """
UNWIND $rows AS row
MATCH (m:MeshTerm {ui: row.ui})
MATCH (p:MeshTerm {ui: row.parent})
MERGE (m)-[:BROADER]->(p)
"""

# --- external citation edge list (graph/edgelist.py) ------------------------------------

LOAD_EDGE_LIST = """
UNWIND $rows AS row
MATCH (a:Article {pmid: row.src})
MATCH (b:Article {pmid: row.dst})
MERGE (a)-[r:CITES]->(b)
ON CREATE SET r.source = $source
"""

# --- stats --------------------------------------------------------------------------------

COUNT_TEXT_ARTICLES = """
MATCH (a:Article)
WHERE a.stub = false
RETURN count(a) AS n
"""

COUNT_STUB_ARTICLES = """
MATCH (a:Article)
WHERE a.stub = true
RETURN count(a) AS n
"""

COUNT_DELETED_ARTICLES = """
MATCH (a:Article)
WHERE a.deleted = true
RETURN count(a) AS n
"""

COUNT_CITES_IN_CORPUS = """
MATCH (a:Article)-[:CITES]->(b:Article)
WHERE a.stub = false AND b.stub = false
RETURN count(*) AS n
"""

# --- test / check snapshot ----------------------------------------------------------------

DUMP_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"

# Relationships beyond the first of one type between the same two nodes (``graph check``).
COUNT_DUPLICATE_RELATIONSHIPS = """
MATCH (a)-[r]->(b)
WITH a, b, type(r) AS type, count(r) AS n
WHERE n > 1
RETURN type, sum(n - 1) AS extra
"""

# Endpoints are named by their key property (each label has exactly one).
DUMP_RELATIONSHIPS = """
MATCH (a)-[r]->(b)
RETURN type(r) AS type,
       labels(a) AS a_labels, coalesce(a.pmid, a.ui, a.id, a.key) AS a_key,
       labels(b) AS b_labels, coalesce(b.pmid, b.ui, b.id, b.key) AS b_key,
       properties(r) AS props
"""


# Read by pairing (text exports) and embeddings (encoding): one query, one text per article.
ARTICLE_TEXTS = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
RETURN a.pmid AS pmid, a.title AS title, a.abstract AS abstract
"""


# --- article reads (graph/articles.py; the dashboard's article page and search results) -----

ARTICLE_DETAIL = """
MATCH (a:Article {pmid: $pmid})
OPTIONAL MATCH (a)-[:PUBLISHED_IN]->(j:Journal)
RETURN a.pmid AS pmid, a.title AS title, a.abstract AS abstract, a.year AS year,
       a.doi AS doi, a.pmcid AS pmcid, coalesce(a.stub, false) AS stub,
       coalesce(a.deleted, false) AS deleted,
       coalesce(j.title, j.iso_abbreviation) AS journal, j.id AS journal_id,
       COUNT { (a)-[:CITES]->() } AS references,
       COUNT { ()-[:CITES]->(a) } AS cited_by,
       a.embedding IS NOT NULL AS has_vector
"""

ARTICLE_MESH = """
MATCH (a:Article {pmid: $pmid})-[r:HAS_MESH]->(m:MeshTerm)
RETURN m.ui AS ui, m.name AS name, coalesce(r.major, false) AS major
ORDER BY major DESC, name
"""

MESH_OF_ARTICLES = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[r:HAS_MESH]->(m:MeshTerm)
RETURN pmid, m.ui AS ui, m.name AS name, coalesce(r.major, false) AS major
ORDER BY pmid, major DESC, name
"""

# The articles an article cites (``REFERENCES``) and those citing it (``CITED_BY``), text
# articles first, newest first; stubs are cited PMIDs the corpus has no record of.
ARTICLE_REFERENCES = """
MATCH (:Article {pmid: $pmid})-[:CITES]->(b:Article)
OPTIONAL MATCH (b)-[:PUBLISHED_IN]->(j:Journal)
RETURN b.pmid AS pmid, b.title AS title, b.year AS year,
       coalesce(j.title, j.iso_abbreviation) AS journal, coalesce(b.stub, false) AS stub
ORDER BY stub, year DESC, pmid
LIMIT $limit
"""

ARTICLE_CITED_BY = """
MATCH (b:Article)-[:CITES]->(:Article {pmid: $pmid})
OPTIONAL MATCH (b)-[:PUBLISHED_IN]->(j:Journal)
RETURN b.pmid AS pmid, b.title AS title, b.year AS year,
       coalesce(j.title, j.iso_abbreviation) AS journal, coalesce(b.stub, false) AS stub
ORDER BY stub, year DESC, pmid
LIMIT $limit
"""

CITES_AMONG = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:CITES]->(b:Article)
WHERE b.pmid IN $pmids
RETURN a.pmid AS src, b.pmid AS dst
"""

# Text articles one CITES hop (either direction) from a set, ranked by how many of the set
# they touch: "expand by citations".
CITATION_NEIGHBOURS_OF_SET = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})-[:CITES]-(b:Article)
WHERE NOT b.pmid IN $pmids AND coalesce(b.stub, false) = false
WITH b, count(DISTINCT a) AS links, collect(DISTINCT a.pmid) AS via
OPTIONAL MATCH (b)-[:PUBLISHED_IN]->(j:Journal)
RETURN b.pmid AS pmid, b.title AS title, b.year AS year,
       coalesce(j.title, j.iso_abbreviation) AS journal, links, via
ORDER BY links DESC, year DESC, pmid
LIMIT $limit
"""

ARTICLES_BRIEF = """
UNWIND $pmids AS pmid
MATCH (a:Article {pmid: pmid})
OPTIONAL MATCH (a)-[:PUBLISHED_IN]->(j:Journal)
RETURN a.pmid AS pmid, a.title AS title, a.year AS year,
       coalesce(j.title, j.iso_abbreviation) AS journal
"""

YEAR_RANGE = """
MATCH (a:Article)
WHERE a.year IS NOT NULL
RETURN min(a.year) AS min_year, max(a.year) AS max_year
"""
