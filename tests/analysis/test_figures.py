"""Figure functions on DataFrames, and the matplotlib PNG export."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pubgraph.analysis import figures as fg


def _years() -> pd.DataFrame:
    rows = []
    for t, label in ((0, "Amyloid"), (1, "Tau")):
        for y, total, partial in ((1977, 100, False), (1978, 100, False), (1979, 100, False),
                                  (2020, 200, False), (2021, 50, True)):
            c = 10 + t + (y > 2000) * 5
            rows.append((t, label, y, c, total, c / total, partial, partial))
    return pd.DataFrame(rows, columns=["topic", "label", "year", "count", "total", "share",
                                       "partial", "flagged"])


def test_trends_figure_breaks_between_eras_and_marks_partial_years(tmp_path: Path) -> None:
    fig = fg.trends_figure(_years())
    lines = [t for t in fig.data if t.showlegend is not False]
    marks = [t for t in fig.data if t.showlegend is False]
    assert [t.name for t in lines] == ["Tau", "Amyloid"]  # largest first
    # a gap (None) between 1979 and 2020; the partial 2021 is not on the line
    assert list(lines[1].x) == [1977.0, 1978.0, 1979.0, None, 2020.0, 2021.0]
    assert lines[1].y[3] is None and lines[1].y[5] is None
    assert [list(m.x) for m in marks] == [[2021.0], [2021.0]]
    assert marks[0].marker.symbol == "circle-open"
    out = fg.to_png(fig, tmp_path / "t.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    stacked = fg.trends_figure(_years(), stacked=True)
    assert all(t.stackgroup == "one" for t in stacked.data)
    fg.to_png(stacked, tmp_path / "s.png")


def test_other_figures(tmp_path: Path) -> None:
    pts = pd.DataFrame({"x": [0.0, 1, 2, 3], "y": [0.0, 1, 0, 1], "topic": [0, 0, 1, 2],
                        "label": ["A", "A", "B", "C"], "title": list("wxyz")})
    m = fg.map_figure(pts, top=2)
    assert [t.name for t in m.data] == ["other topics", "A", "B"]
    assert list(m.data[0].x) == [3.0]
    sig = pd.DataFrame({"name": ["Amyloid", "Tau"], "lift": [3.0, 2.0], "q": [1e-5, 0.01]})
    s = fg.signature_figure(sig)
    assert list(s.data[0].y) == ["Tau", "Amyloid"]
    one = fg.topic_trend_figure(_years(), 1)
    assert one.data[0].marker.color[-1] == fg.OTHER  # the partial year is pale
    topics = pd.DataFrame({"label": ["A", "B"], "trend": ["emerging", "stable"],
                           "effect": [0.1, -0.01], "ci_low": [0.05, -0.05],
                           "ci_high": [0.15, 0.03], "q": [0.001, 0.6]})
    eff = fg.effects_figure(topics)
    assert list(eff.data[0].x) == [-1.0, 10.0]
    for i, f in enumerate((m, s, one, eff)):
        assert fg.to_png(f, tmp_path / f"{i}.png").stat().st_size > 3000


def test_effects_figure_with_an_interval_not_containing_the_estimate(tmp_path: Path) -> None:
    topics = pd.DataFrame({"label": ["A", "B", "C"], "trend": ["grew", "stable", "new"],
                           "effect": [0.5, 0.1, float("nan")], "ci_low": [0.6, -0.2, 1.0],
                           "ci_high": [2.0, 0.3, float("nan")], "q": [0.01, 0.5, 0.02]})
    fig = fg.effects_figure(topics)
    assert len(fig.data[0].x) == 2 and min(fig.data[0].error_x.arrayminus) == 0
    assert fg.to_png(fig, tmp_path / "e.png").stat().st_size > 3000
