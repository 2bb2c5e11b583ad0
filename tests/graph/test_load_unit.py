"""Pure tests of the loader's row transforms and pinned query strings (no database)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import InputError
from pubgraph.graph import queries as q
from pubgraph.graph.loader import (
    ARTICLE_PROPERTIES,
    COLUMNS,
    BatchPlan,
    _prefetch,
    author_key,
    check_parquet,
    iter_parquet_rows,
    plan_batches,
    row_cost,
    transform_article,
    transform_authors,
    transform_batch,
    transform_mesh,
    transform_references,
)
from pubgraph.ingest.records import (
    RECORD_SCHEMA,
    Article,
    Author,
    Deletion,
    Journal,
    MeshHeading,
    PubDate,
    Reference,
    to_row,
)


def _row(pmid: str, **kw: object) -> dict[str, object]:
    return to_row(Article(pmid=pmid, **kw), "f.xml")  # type: ignore[arg-type]


def test_loader_reads_only_record_schema_columns() -> None:
    assert set(COLUMNS) <= set(RECORD_SCHEMA.names)


def test_author_key_is_last_name_plus_initials_lower_cased() -> None:
    assert author_key({"last_name": "Smith", "initials": "JA"}) == "smith ja"
    assert author_key({"last_name": "van  der Berg", "fore_name": "Jan-Peter"}) == "van der berg jp"
    assert author_key({"last_name": "Smith", "fore_name": None, "initials": None}) == "smith"
    assert author_key({"collective_name": "WHO  Study Group"}) == "who study group"
    assert author_key({"fore_name": "Anon"}) is None


def test_transform_authors_keeps_order_and_first_position_of_a_repeated_key() -> None:
    authors = [
        {"last_name": "Wang", "initials": "Y", "fore_name": "Yi"},
        {"fore_name": "nobody"},
        {"last_name": "Li", "initials": "X"},
        {"last_name": "Wang", "initials": "Y", "fore_name": "Yan"},
    ]
    out = transform_authors(authors)
    assert [(a["key"], a["position"]) for a in out] == [("wang y", 1), ("li x", 2)]
    assert out[0]["fore_name"] == "Yi"


def test_transform_mesh_merges_duplicates_and_derives_major_topic() -> None:
    headings = [
        {"ui": "D1", "name": "Heart", "major": False,
         "qualifiers": [{"ui": "Q1", "name": "surgery", "major": True},
                        {"ui": "Q2", "name": "pathology", "major": False}]},
        {"ui": "D2", "name": "Lung", "major": False, "qualifiers": []},
        {"ui": "D1", "name": "Heart", "major": True,
         "qualifiers": [{"ui": "Q2", "name": "pathology", "major": False}]},
        {"ui": None, "name": "no ui", "major": True, "qualifiers": []},
    ]
    out = {m["ui"]: m for m in transform_mesh(headings)}
    assert set(out) == {"D1", "D2"}
    assert out["D1"]["descriptor_major"] is True and out["D1"]["major"] is True
    assert out["D1"]["qualifiers"] == ["surgery", "pathology"]
    assert out["D1"]["major_qualifiers"] == ["surgery"]
    assert out["D2"]["major"] is False
    assert out["D2"]["qualifiers"] is None and out["D2"]["major_qualifiers"] is None


def test_major_topic_comes_from_a_starred_qualifier_alone() -> None:
    [m] = transform_mesh([{"ui": "D1", "name": "x", "major": False,
                           "qualifiers": [{"ui": "Q1", "name": "q", "major": True}]}])
    assert (m["major"], m["descriptor_major"]) == (True, False)


def test_references_dedupe_skip_self_and_refs_without_pmid() -> None:
    refs = [{"pmid": "2"}, {"pmid": "1"}, {"pmid": " 2 "}, {"pmid": None, "citation": "x"},
            {"pmid": "3"}]
    assert transform_references("1", refs) == ["2", "3"]


def test_transform_article_has_every_content_key_with_null_for_missing() -> None:
    row = _row("7", title="T", keywords=(), pub_date=PubDate(1999, 2))
    art = transform_article(row)
    assert set(art) == {"pmid", *ARTICLE_PROPERTIES}
    assert (art["pmid"], art["title"], art["pub_date"], art["year"]) == ("7", "T", "1999-02", 1999)
    assert art["keywords"] is None  # empty list -> property removed
    assert art["abstract"] is None
    assert art["source_file"] == "f.xml"


def _set_keys(query: str) -> set[str]:
    return set(re.findall(r"\ba\.(\w+) = row\.\1\b", query))


def test_upsert_and_clear_cover_exactly_the_content_properties() -> None:
    assert _set_keys(q.UPSERT_ARTICLES) == set(ARTICLE_PROPERTIES)
    removed = re.search(r"REMOVE (.*?)\nSET", q.CLEAR_DELETED_ARTICLES, re.S)
    assert removed is not None
    assert {k.strip().removeprefix("a.") for k in removed.group(1).split(",")} == set(
        ARTICLE_PROPERTIES)


def test_transform_batch_last_row_wins_and_shared_nodes_are_merged_once() -> None:
    j = Journal(title="J Test", issn="1234-5678", nlm_unique_id="J1")
    rows = [
        _row("20", title="old", journal=j, authors=(Author("Smith", "John", "J"),)),
        _row("3", title="three", journal=j, authors=(Author("Smith", "John", "J"),),
             mesh=(MeshHeading("D1", "Heart"),),
             references=(Reference(pmid="20"), Reference(pmid="99"), Reference(pmid="3"))),
        _row("20", title="new", journal=j, mesh=(MeshHeading("D1", "Heart"),),
             references=(Reference(pmid="99"),)),
    ]
    plan = transform_batch(rows)
    assert plan.pmids == ["3", "20"]  # numeric order
    assert [a["title"] for a in plan.articles] == ["three", "new"]
    assert plan.journals == [{"id": "J1", "title": "J Test", "iso_abbreviation": None,
                              "issn": "1234-5678"}]
    assert [a["key"] for a in plan.authors] == ["smith j"]
    assert plan.author_links == [{"pmid": "3", "key": "smith j", "position": 1}]
    assert [m["ui"] for m in plan.mesh_terms] == ["D1"]
    assert [(m["pmid"], m["ui"]) for m in plan.mesh_links] == [("3", "D1"), ("20", "D1")]
    assert plan.cited == ["20", "99"]
    assert plan.cite_links == [{"src": "3", "dst": "20"}, {"src": "3", "dst": "99"},
                               {"src": "20", "dst": "99"}]
    stale = {s["pmid"]: s for s in plan.stale}
    assert stale["20"] == {"pmid": "20", "journal_id": "J1", "keys": [], "uis": ["D1"],
                           "refs": ["99"]}


def test_row_without_pmid_is_an_input_error_naming_file_and_field() -> None:
    row = _row("1")
    row["pmid"] = "  "
    with pytest.raises(InputError) as err:
        transform_batch([row])
    assert err.value.field == "pmid" and err.value.file == "f.xml"


def test_parquet_check_and_rows(tmp_path: Path) -> None:
    rows = [_row("1", title="a"), to_row(Deletion("2"), None)]
    path = tmp_path / "r.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=RECORD_SCHEMA), path)
    assert check_parquet(path) == 2
    out = list(iter_parquet_rows([path]))
    assert [(r["record_type"], r["pmid"], r["source_file"]) for r in out] == [
        ("article", "1", "f.xml"), ("deletion", "2", "r.parquet")]
    assert "abstract_sections" not in out[0]  # only the loader's columns are read

    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"id": ["1"]}), bad)
    with pytest.raises(InputError, match="missing column") as err:
        check_parquet(bad)
    assert err.value.field == "record_type"
    with pytest.raises(InputError, match="no such file"):
        check_parquet(tmp_path / "absent.parquet")
    text = tmp_path / "x.parquet"
    text.write_text("not parquet")
    with pytest.raises(InputError, match="not a Parquet file"):
        check_parquet(text)


def test_pinned_queries() -> None:
    assert q.UPSERT_ARTICLES.strip().startswith(
        "UNWIND $rows AS row\n"
        "MERGE (a:Article {pmid: row.pmid})\n"
        "SET a.title = row.title,\n"
    )
    assert q.UPSERT_ARTICLES.strip().endswith("a.stub = false,\n    a.deleted = null")
    assert q.MERGE_STUBS.strip() == (
        "UNWIND $pmids AS pmid\n"
        "MERGE (b:Article {pmid: pmid})\n"
        "ON CREATE SET b.stub = true"
    )
    assert q.LINK_CITES.strip() == (
        "UNWIND $rows AS row\n"
        "MATCH (a:Article {pmid: row.src})\n"
        "MATCH (b:Article {pmid: row.dst})\n"
        "MERGE (a)-[:CITES]->(b)"
    )
    assert q.DELETE_STALE_CITES.strip() == (
        "UNWIND $rows AS row\n"
        "MATCH (a:Article {pmid: row.pmid})-[r:CITES]->(b:Article)\n"
        "WHERE r.source IS NULL AND NOT b.pmid IN row.refs\n"
        "DELETE r\n"
        "RETURN DISTINCT b.pmid AS pmid"
    )
    assert q.DELETE_ORPHAN_STUBS.strip() == (
        "UNWIND $pmids AS pmid\n"
        "MATCH (b:Article {pmid: pmid})\n"
        "USING INDEX b:Article(pmid)\n"
        "WHERE b.stub = true AND NOT EXISTS { (b)--() }\n"
        "DELETE b"
    )
    assert q.CREATE_CITES.strip() == (
        "UNWIND $rows AS row\n"
        "MATCH (a:Article {pmid: row.src})\n"
        "MATCH (b:Article {pmid: row.dst})\n"
        "CREATE (a)-[:CITES]->(b)"
    )


def test_every_write_statement_is_parameterised_unwind() -> None:
    writes = [v for k, v in vars(q).items()
              if k.isupper() and isinstance(v, str) and ("MERGE" in v or "DELETE" in v)]
    assert len(writes) >= 15
    for text in writes:
        assert text.strip().startswith("UNWIND $"), text


def test_plan_batches_cuts_batches_and_defers_deletions_to_the_end_of_their_file() -> None:
    rows = [
        _row("1"), to_row(Deletion("9"), "f.xml"), _row("2"), _row("3"),
        to_row(Deletion("8"), "f.xml"), to_row(Deletion("9"), "f.xml"),
        to_row(Article("4"), "g.xml"), to_row(Deletion("4"), "g.xml"),
    ]
    files: dict[str, None] = {}
    steps = list(plan_batches(rows, batch_size=4, files=files))  # 2 bare articles a batch
    described = [
        ("articles", s.pmids) if isinstance(s, BatchPlan) else ("deletions", s.pmids)
        for s in steps
    ]
    assert described == [
        ("articles", ["1", "2"]),
        ("articles", ["3"]),
        ("deletions", ["8", "9"]),
        ("articles", ["4"]),
        ("deletions", ["4"]),
    ]
    assert list(files) == ["f.xml", "g.xml"]
    assert [s.rows for s in steps] == [2, 1, 3, 1, 1]


def test_batches_are_cut_by_graph_rows() -> None:
    big = _row("1", references=tuple(Reference(pmid=str(100 + i)) for i in range(30)))
    assert row_cost(big) == 32
    small = [_row(str(i), mesh=(MeshHeading("D1", "x"),)) for i in range(2, 12)]  # cost 3
    steps = list(plan_batches([big, *small], batch_size=9))
    assert [len(s.pmids) for s in steps if isinstance(s, BatchPlan)] == [1, 3, 3, 3, 1]


def test_shared_node_fields_fold_in_stream_order_whatever_the_batches() -> None:
    rows = [
        _row("5", authors=(Author("Smith", "John", "J"),)),
        _row("1", authors=(Author("Smith", None, "J"),)),
    ]
    whole = transform_batch(rows)
    assert whole.authors == [{"key": "smith j", "last_name": "Smith", "fore_name": "John",
                              "initials": "J", "collective_name": None}]
    # A row replaced later in the same batch still names its author's fields, but only
    # nodes the surviving rows link to are written.
    replaced = transform_batch([*rows, _row("5")])
    assert replaced.authors == whole.authors
    dropped = transform_batch([_row("5", authors=(Author("Doe", "Ann", "A"),)), _row("5")])
    assert dropped.authors == []


def test_prefetch_yields_in_order_and_raises_after_the_good_items() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise InputError("bad row", file="f.xml")

    seen: list[int] = []
    with pytest.raises(InputError, match="bad row"):
        for item in _prefetch(items(), depth=1):
            seen.append(item)
    assert seen == [1, 2]


def test_prefetch_stops_its_thread_when_the_consumer_stops() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    gen = _prefetch(items(), depth=2)
    assert next(gen) == 0
    gen.close()
    time.sleep(0.3)
    assert len(produced) < 10
    assert not any(t.name == "pubgraph-load-prefetch" for t in threading.enumerate())
