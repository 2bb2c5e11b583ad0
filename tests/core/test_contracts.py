"""The contracts between packages: one article text, one pair-run layout, one record schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pubgraph.core import contracts
from pubgraph.core.contracts import TEXT_MODES, article_text
from pubgraph.core.errors import ConfigError, InputError


def test_article_text_pins_the_one_text() -> None:
    assert article_text(" A title ", " An abstract. ") == "A title. An abstract."
    assert article_text("A title.", "An abstract.") == "A title. An abstract."
    # the bug: a question mark was followed by ". " for training but not for search
    assert article_text("Is X safe?", "Abs") == "Is X safe? Abs"
    assert article_text("Stop!", "Abs") == "Stop! Abs"
    assert article_text("A title.", None) == "A title."
    assert article_text(None, "  ") == ""
    assert article_text("A title.", "An abstract.", "title") == "A title."
    assert article_text("A title.", "An abstract.", "abstract") == "An abstract."
    assert article_text("A title.", None, "abstract") == ""
    assert TEXT_MODES == ("title+abstract", "title", "abstract")
    with pytest.raises(ConfigError, match="unknown text mode 'body'"):
        article_text("t", "a", "body")


def test_training_export_and_encoding_use_the_same_text(tmp_path: Path) -> None:
    """What the model is trained on (train.data, from pairing's texts) is what embed encodes."""
    from pubgraph.embeddings import embed
    from pubgraph.pairing import export
    from pubgraph.train import data

    assert export.article_text is contracts.article_text
    assert embed.article_text is contracts.article_text
    titles = ["Is aspirin safe?", "Insulin resistance.", "No abstract here"]
    abstracts = ["A trial in 300 adults.", "Muscle biopsies were taken.", None]
    path = tmp_path / "texts.parquet"
    pd.DataFrame({"pmid": ["1", "2", "3"], "title": titles, "abstract": abstracts}).to_parquet(
        path
    )
    trained = data.read_texts(path)["text"].tolist()
    encoded = [article_text(t, a) for t, a in zip(titles, abstracts, strict=True)]
    assert trained == encoded
    assert trained[0] == "Is aspirin safe? A trial in 300 adults."


def test_record_schema_is_the_contract() -> None:
    from pubgraph.graph.loader import COLUMNS, NOT_LOADED
    from pubgraph.ingest.records import RECORD_SCHEMA

    assert tuple(RECORD_SCHEMA.names) == contracts.RECORD_COLUMNS
    assert set(COLUMNS) | NOT_LOADED == set(contracts.RECORD_COLUMNS)


def test_read_splits_and_missing_files(tmp_path: Path) -> None:
    table = pa.table({"pmid": ["1", "2", "3"], "year": [2000, 2001, 2002],
                      "split": ["train", "test", None]})
    pq.write_table(table, tmp_path / contracts.SPLITS_FILE)
    assert contracts.read_splits(tmp_path) == {"1": "train", "2": "test"}
    with pytest.raises(InputError, match=r"pairs\.parquet.*pubgraph pairs run"):
        contracts.pair_run_file(tmp_path, contracts.PAIRS_FILE)
    assert contracts.read_run_manifest(tmp_path) == {}
    (tmp_path / contracts.RUN_FILE).write_text('{"run_id": "r1"}')
    assert contracts.read_run_manifest(tmp_path) == {"run_id": "r1"}
