"""Pure pieces of the dashboard: URL state, year filtering and sampling, run folders."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from pubgraph.dashboard import components as c
from pubgraph.dashboard.helpers import find_models, parse_topics, visible_points


def test_href_keeps_only_set_values_and_quotes_user_text() -> None:
    url = c.href("/search", q="tau & 'amyloid'", mesh="", journal=None, expand=None,
                 **{"from": 2001, "to": None})
    parts = urlsplit(url)
    assert parts.path == "/search"
    assert parse_qs(parts.query) == {"q": ["tau & 'amyloid'"], "from": ["2001"]}
    assert c.href("/map") == "/map"


def test_parse_topics() -> None:
    assert parse_topics("3,7, 12,x,,7,-1") == [3, 7, 12, -1]
    assert parse_topics(["4", "5"]) == [4, 5]
    assert parse_topics(None) == []
    assert parse_topics("1;DROP") == []


def test_visible_points_filters_years_then_samples() -> None:
    pts = pd.DataFrame({"pmid": [str(i) for i in range(100)],
                        "year": [2000 + i % 10 for i in range(100)],
                        "x": range(100), "y": range(100)})
    shown = visible_points(pts, 2002, 2004, cap=1000)
    assert sorted(set(shown["year"])) == [2002, 2003, 2004] and len(shown) == 30
    capped = visible_points(pts, None, None, cap=25)
    assert len(capped) == 25
    assert capped["pmid"].tolist() == visible_points(pts, None, None, cap=25)["pmid"].tolist()


def test_find_models(tmp_path: Path) -> None:
    from pubgraph.train.trainer import META_FILE

    (tmp_path / "train" / "a").mkdir(parents=True)
    (tmp_path / "train" / "a" / META_FILE).write_text("{}")
    (tmp_path / "deep" / "x" / "y" / "b").mkdir(parents=True)
    (tmp_path / "deep" / "x" / "y" / "b" / META_FILE).write_text("{}")
    (tmp_path / "other").mkdir()
    found = find_models((tmp_path, tmp_path / "missing"))
    assert sorted(p.name for p in found) == ["a", "b"]


def test_fmt_q() -> None:
    assert c.fmt_q(None) == "q –"
    assert c.fmt_q(0.0123) == "q=0.012"
    assert c.fmt_q(1e-6) == "q<0.001"
