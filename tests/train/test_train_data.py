"""Pair-file readers and the per-loss datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.core.errors import InputError, TrainingError
from pubgraph.train import data
from pubgraph.train.data import build_dataset, dataset_columns, detect_kind, load_pairs, read_texts

from .conftest import PAIR_RUN_ID


def test_detect_kind() -> None:
    assert detect_kind(["pmid_a", "pmid_b", "label", "strategy", "score", "split"]) == "graph"
    assert detect_kind(["text1", "text2", "label", "pmid_a"]) == "labelled"
    assert detect_kind(["anchor", "positive", "negative"]) == "triplets"
    assert detect_kind(["anchor", "positive", "pmid_anchor"]) == "positives"
    with pytest.raises(InputError, match=r"x\.csv: unrecognised pair file.*found a, b"):
        detect_kind(["a", "b"], "x.csv")


def test_graph_pairs_join_texts_and_split(pairs_dir: Path, articles: pd.DataFrame) -> None:
    table = load_pairs(pairs_dir / "pairs.parquet", split="test")
    raw = pd.read_parquet(pairs_dir / "pairs.parquet")
    expected = raw[raw["split"] == "test"]
    assert table.kind == "labelled" and len(table) == len(expected)
    texts = dict(zip(articles["pmid"], articles["title"] + ". " + articles["abstract"],
                     strict=True))
    first = table.frame.iloc[0]
    assert first["text1"] == " ".join(texts[first["pmid_a"]].split())
    assert list(table.frame["label"]) == list(expected["label"])
    assert table.pair_run_id == PAIR_RUN_ID


def test_strategy_filter_and_missing_split(pairs_dir: Path) -> None:
    table = load_pairs(pairs_dir / "pairs.parquet", split="train", strategies=("citation",))
    assert set(table.frame["label"]) == {1}
    with pytest.raises(TrainingError, match=r"no rows with split 'dev'.*test, train, validation"):
        load_pairs(pairs_dir / "pairs.parquet", split="dev")
    assert len(load_pairs(pairs_dir / "pairs.parquet", split="dev", require_split=False)) == 0


def test_pairs_without_texts_file_is_an_error(tmp_path: Path, pairs_dir: Path) -> None:
    lone = tmp_path / "lone.parquet"
    lone.write_bytes((pairs_dir / "pairs.parquet").read_bytes())
    with pytest.raises(TrainingError, match="needs article texts"):
        load_pairs(lone, split="train")


def test_pairs_with_missing_texts_are_dropped(tmp_path: Path, articles: pd.DataFrame) -> None:
    pd.DataFrame({"pmid_a": ["1001", "1002"], "pmid_b": ["1003", "999999"], "label": [1, 0],
                  "strategy": ["x", "x"], "score": [1.0, 0.0], "split": ["train", "train"]}
                 ).to_parquet(tmp_path / "pairs.parquet")
    articles[["pmid", "title", "abstract"]].to_parquet(tmp_path / "texts.parquet")
    table = load_pairs(tmp_path / "pairs.parquet", split="train")
    assert len(table) == 1 and table.dropped == 1


def test_bad_label_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text1,text2,label\na,b,1\nc,d,yes\n")
    with pytest.raises(InputError, match=r"bad\.csv, record row 2, field label: label must be 0"):
        load_pairs(path)


def test_csv_quoting_and_exports(tmp_path: Path) -> None:
    path = tmp_path / "triplets.csv"
    path.write_text('anchor,positive,negative,pmid_anchor\n"a, quoted",p1,n1,1\n'
                    'a2,"p2\nline",n2,2\n')
    table = load_pairs(path)
    assert table.kind == "triplets"
    assert list(table.frame["anchor"]) == ["a, quoted", "a2"]
    assert list(table.frame["positive"]) == ["p1", "p2 line"]
    assert list(table.frame["pmid_anchor"]) == ["1", "2"]


def test_read_texts_title_abstract_and_text(tmp_path: Path) -> None:
    pd.DataFrame({"pmid": [5, 6, 7], "title": ["T5", "T6", ""], "abstract": ["A5", None, ""]}
                 ).to_parquet(tmp_path / "t.parquet")
    texts = read_texts(tmp_path / "t.parquet")
    assert texts.loc["5", "text"] == "T5. A5" and texts.loc["6", "text"] == "T6"
    assert "7" not in texts.index
    pd.DataFrame({"pmid": ["8"], "text": ["whole"]}).to_csv(tmp_path / "t.csv", index=False)
    assert read_texts(tmp_path / "t.csv").loc["8", "text"] == "whole"


def test_pair_run_id_sources(tmp_path: Path) -> None:
    table = pa.table({"text1": ["a"], "text2": ["b"], "label": [1]})
    pq.write_table(table.replace_schema_metadata({"pair_run_id": "meta-run"}),
                   tmp_path / "m.parquet")
    assert data.find_pair_run_id(tmp_path / "m.parquet") == "meta-run"
    frame = pd.DataFrame({"run_id": ["col-run", "col-run"]})
    assert data.find_pair_run_id(tmp_path / "x.csv", frame) == "col-run"
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "json-run"}))
    assert data.find_pair_run_id(tmp_path / "x.csv") == "json-run"


def labelled(rows: list[tuple[str, str, int]]) -> data.PairTable:
    frame = pd.DataFrame(rows, columns=["text1", "text2", "label"])
    return data.PairTable("labelled", frame, "mem")


def test_cosine_columns_map_negatives_to_target() -> None:
    table = labelled([("a", "b", 1), ("a", "c", 0)])
    cols = dataset_columns(table, "cosine", negative_target=0.3)
    assert cols == {"sentence1": ["a", "a"], "sentence2": ["b", "c"], "score": [1.0, 0.3]}
    assert list(dataset_columns(table, "online_contrastive")) == ["sentence1", "sentence2", "label"]


def test_ranking_columns_use_same_anchor_hard_negatives() -> None:
    table = labelled([("a", "b", 1), ("a", "c", 0), ("d", "e", 1), ("f", "g", 0)])
    cols = dataset_columns(table, "mnrl", seed=1)
    assert cols["anchor"] == ["a", "d"] and cols["positive"] == ["b", "e"]
    assert cols["negative"][0] == "c"  # the label-0 partner of the same anchor
    assert cols["negative"][1] not in ("d", "e")  # random, never the anchor or its positive
    assert list(dataset_columns(table, "mnrl", hard_negatives=False)) == ["anchor", "positive"]


def test_ranking_without_any_hard_negative_drops_the_column() -> None:
    table = labelled([("a", "b", 1), ("c", "d", 0)])
    assert list(dataset_columns(table, "mnrl")) == ["anchor", "positive"]
    # the triplet loss still needs a negative: a random one
    cols = dataset_columns(table, "triplet", seed=3)
    assert cols["negative"][0] not in ("a", "b")


def test_positives_only_cannot_train_a_labelled_loss() -> None:
    table = data.PairTable("positives", pd.DataFrame({"anchor": ["a"], "positive": ["b"]}), "p")
    with pytest.raises(TrainingError, match=r"only positive pairs.*use loss mnrl"):
        dataset_columns(table, "cosine")


def test_triplets_expand_to_labelled_pairs() -> None:
    table = data.PairTable(
        "triplets", pd.DataFrame({"anchor": ["a"], "positive": ["p"], "negative": ["n"]}), "t")
    cols = dataset_columns(table, "contrastive")
    assert cols == {"sentence1": ["a", "a"], "sentence2": ["p", "n"], "label": [1, 0]}


def test_random_negatives_are_seeded_and_valid() -> None:
    anchors = ["a", "a", "b"]
    positives = ["x", "y", "z"]
    pool = ["a", "b", "x", "y", "z", "q", "r"]
    first = data.random_negatives(anchors, positives, pool, seed=5)
    assert first == data.random_negatives(anchors, positives, pool, seed=5)
    banned = {"a": {"a", "x", "y"}, "b": {"b", "z"}}
    for anchor, neg in zip(anchors, first, strict=True):
        assert neg in pool and neg not in banned[anchor]


def test_build_dataset_column_order(labelled_csv: Path) -> None:
    ds = build_dataset(load_pairs(labelled_csv), "cosine")
    assert ds.column_names == ["sentence1", "sentence2", "score"]
    assert len(ds) == len(pd.read_csv(labelled_csv))


def test_pairing_positive_export_keeps_pmid_columns(tmp_path: Path) -> None:
    pd.DataFrame({"anchor": ["a"], "positive": ["b"], "anchor_pmid": [11], "positive_pmid": [12]}
                 ).to_parquet(tmp_path / "train_pairs.parquet")
    table = load_pairs(tmp_path / "train_pairs.parquet")
    assert table.kind == "positives"
    assert table.frame.iloc[0].to_dict() == {"anchor": "a", "positive": "b", "anchor_pmid": "11",
                                             "positive_pmid": "12"}


def test_title_abstract_pairs_are_mixed_in_from_the_train_split(
    tmp_path: Path, pairs_dir: Path, articles: pd.DataFrame
) -> None:
    texts = articles[["pmid", "title", "abstract"]].copy()
    texts["split"] = ["train" if i % 2 else "test" for i in range(len(texts))]
    texts.to_parquet(tmp_path / "texts_split.parquet", index=False)
    table = load_pairs(pairs_dir / "pairs.parquet", split="train")
    mixed = data.add_title_abstract(table, tmp_path / "texts_split.parquet", 3, split="train",
                                    seed=1)
    extra = mixed.frame.iloc[len(table):]
    assert len(mixed) == len(table) + 3
    train = texts[texts["split"] == "train"].set_index("pmid")
    for row in extra.itertuples():
        assert row.pmid_a == row.pmid_b and row.pmid_a in train.index  # train split only
        assert row.text1 == " ".join(train.loc[row.pmid_a, "title"].split())
        assert row.text2 == " ".join(train.loc[row.pmid_a, "abstract"].split())
        assert row.label == 1
    # The same seed draws the same articles; asking for more than exist takes them all.
    again = data.add_title_abstract(table, tmp_path / "texts_split.parquet", 3, split="train",
                                    seed=1)
    assert list(again.frame["pmid_a"]) == list(mixed.frame["pmid_a"])
    every = data.add_title_abstract(table, tmp_path / "texts_split.parquet", 10_000,
                                    split="train")
    assert len(every) == len(table) + len(train)
    # MNRL trains on them as (title, abstract, random negative) triplets.
    cols = dataset_columns(mixed, "mnrl")
    titles = set(extra["text1"])
    rows = [(a, p, n) for a, p, n in zip(cols["anchor"], cols["positive"], cols["negative"],
                                         strict=True) if a in titles]
    assert len(rows) == 3 and all(n not in (a, p) for a, p, n in rows)


def test_title_abstract_pairs_errors_name_the_problem(tmp_path: Path, pairs_dir: Path,
                                                      articles: pd.DataFrame) -> None:
    table = load_pairs(pairs_dir / "pairs.parquet", split="train")
    empty = articles[["pmid", "title"]].assign(abstract="")
    empty.to_parquet(tmp_path / "no_abstracts.parquet", index=False)
    with pytest.raises(TrainingError, match=r"no_abstracts\.parquet: no article with both"):
        data.add_title_abstract(table, tmp_path / "no_abstracts.parquet", 5, split="train")
    triplets = data.PairTable("triplets", pd.DataFrame({"anchor": ["a"], "positive": ["b"],
                                                        "negative": ["c"]}), "t.csv")
    with pytest.raises(TrainingError, match=r"t\.csv: title_abstract_pairs needs a labelled"):
        data.add_title_abstract(triplets, pairs_dir / "texts.parquet", 5, split=None)
