"""The demo's corpus slice: both eras, citation structure first, seeded, reproducible."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import ConfigError, InputError
from pubgraph.ingest.slice import (
    Candidate,
    candidates_from_rows,
    priorities,
    select_slice,
    write_slice,
)


def _corpus() -> list[Candidate]:
    """Era A (old file): titles and abstracts, no references. Era B (update file): some
    articles cite each other, some have only outside references, some nothing."""
    old = [Candidate(f"1{i:03d}", "old.xml.gz", has_abstract=i % 2 == 0) for i in range(50)]
    new = [
        Candidate("2000", "new.xml.gz", True, ("2001", "9999")),  # cites a corpus article
        Candidate("2001", "new.xml.gz", True, ()),  # cited by 2000
        Candidate("2002", "new.xml.gz", True, ("1003",)),  # cites an old-era article
        *[Candidate(f"21{i:02d}", "new.xml.gz", True, ("8888",)) for i in range(10)],
        *[Candidate(f"22{i:02d}", "new.xml.gz", False, ()) for i in range(30)],
    ]
    return old + new


def test_priorities_rank_linked_then_references_then_abstracts() -> None:
    prio = priorities(_corpus())
    assert prio["2000"] == 0 and prio["2001"] == 0  # citing and cited inside the corpus
    assert prio["2002"] == 0 and prio["1003"] == 0  # a link across eras counts for both
    assert prio["2100"] == 1  # outside references only
    assert prio["1000"] == 2  # abstract
    assert prio["1001"] == 3  # title only
    assert prio["2200"] == 3


def test_slice_spans_both_eras_and_keeps_citations() -> None:
    chosen, report = select_slice(_corpus(), size=20, seed=13)
    assert len(chosen) == 20 == len(set(chosen))
    # quotas of 10 each; 1003 (old era) comes in with 2002, which cites it, on the update
    # file's quota, so the old file's own quota still adds 10 of its articles
    assert report.by_source == {"new.xml.gz": 9, "old.xml.gz": 11}
    # every article citing inside the corpus is in, and so is what it cites
    assert {"2000", "2001", "2002", "1003"} <= set(chosen)
    assert report.in_slice_citations == 2  # 2000 -> 2001 and 2002 -> 1003
    # the update file's rest of the quota goes to articles with reference lists first
    new_rest = [p for p in chosen if p.startswith("21")]
    assert len(new_rest) == 6  # 10 - 2000, 2001, 2002 and 1003
    assert not any(p.startswith("22") for p in chosen)
    # the old file's quota goes to abstracts before titles
    old = [p for p in chosen if p.startswith("1")]
    assert all(int(p[1:]) % 2 == 0 for p in old if p != "1003")


def test_slice_is_seeded() -> None:
    a, _ = select_slice(_corpus(), size=15, seed=1)
    b, _ = select_slice(_corpus(), size=15, seed=1)
    c, _ = select_slice(_corpus(), size=15, seed=2)
    assert a == b
    assert set(a) != set(c)  # another seed breaks the ties another way


def test_small_source_passes_its_quota_on() -> None:
    cands = [Candidate("1", "a", True)] + [Candidate(str(100 + i), "b", True) for i in range(9)]
    chosen, report = select_slice(cands, size=8, seed=0)
    assert report.by_source == {"a": 1, "b": 7}
    assert len(chosen) == 8


def test_size_larger_than_corpus_takes_everything() -> None:
    cands = _corpus()
    chosen, _ = select_slice(cands, size=10_000, seed=0)
    assert sorted(chosen) == sorted(c.pmid for c in cands)


def test_bad_size_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="slice size"):
        select_slice(_corpus(), size=0, seed=0)


def test_candidates_take_the_last_version_and_skip_empty() -> None:
    rows = [
        {"record_type": "article", "pmid": "1", "title": "old", "abstract": None,
         "references": [], "source_file": "/x/base.xml.gz"},
        {"record_type": "article", "pmid": "1", "title": "new", "abstract": "text",
         "references": [{"pmid": "2"}, {"pmid": None}], "source_file": "/x/upd.xml.gz"},
        {"record_type": "article", "pmid": "3", "title": None, "abstract": None,
         "references": [], "source_file": "/x/base.xml.gz"},
        {"record_type": "deletion", "pmid": "4", "title": None, "abstract": None,
         "references": None, "source_file": "/x/upd.xml.gz"},
    ]
    cands = candidates_from_rows(rows)
    assert cands == [Candidate("1", "upd.xml.gz", True, ("2",))]


def test_write_slice_filters_rows_and_reports(tmp_path: Path) -> None:
    rows = [
        {"record_type": "article", "pmid": str(i), "title": f"t{i}", "abstract": "a",
         "references": [{"pmid": str(i - 1)}] if i % 2 else [],
         "source_file": "f1.xml" if i < 10 else "f2.xml", "year": 1977 if i < 10 else 2021}
        for i in range(20)
    ] + [{"record_type": "deletion", "pmid": "5", "title": None, "abstract": None,
          "references": None, "source_file": "f2.xml", "year": None},
         {"record_type": "deletion", "pmid": "777", "title": None, "abstract": None,
          "references": None, "source_file": "f2.xml", "year": None}]
    src = tmp_path / "all.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    out = tmp_path / "slice" / "records.parquet"
    report = write_slice(src, out, size=6, seed=3)
    table = pq.read_table(out)
    arts = [r for r in table.to_pylist() if r["record_type"] == "article"]
    assert len(arts) == 6 == report.selected
    assert {r["year"] for r in arts} == {1977, 2021}
    dels = [r["pmid"] for r in table.to_pylist() if r["record_type"] == "deletion"]
    assert "777" not in dels  # deletions of PMIDs outside the slice are dropped
    assert report.deletions_kept == len(dels)
    assert (tmp_path / "slice" / "records.slice.json").is_file()
    full = write_slice(src, tmp_path / "full.parquet", size=None, seed=3)
    assert pq.read_table(tmp_path / "full.parquet").num_rows == len(rows)
    assert full.selected == 20
    assert full.in_slice_citations == 10  # every odd article cites the one before it


def test_write_slice_names_a_bad_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        write_slice(tmp_path / "missing.parquet", tmp_path / "o.parquet", 5, 0)
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"x": [1]}), bad)
    with pytest.raises(InputError, match="missing columns"):
        write_slice(bad, tmp_path / "o.parquet", 5, 0)


def test_abstracts_first_inside_a_priority_class() -> None:
    cands = [Candidate(f"{i}", "f", has_abstract=i >= 5, references=("x",)) for i in range(10)]
    chosen, _ = select_slice(cands, size=5, seed=0)
    assert sorted(chosen) == ["5", "6", "7", "8", "9"]
