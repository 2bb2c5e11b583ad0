"""MeSH signatures on a hand-made table, c-TF-IDF against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import comb

from pubgraph.analysis import labels as lb


def _hand_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    # 3 topics × 20 articles. D1: every article of topic 0 (major). D2: every article.
    # D3: 6 articles of topic 1 and 2 of topic 2 (minor). D4: 1 article (too rare to test).
    assign = pd.DataFrame({"pmid": [str(i) for i in range(60)], "topic": [i // 20 for i in
                                                                          range(60)]})
    rows = []
    for i in range(60):
        p = str(i)
        rows.append((p, "D2", "Humans", False))
        if i < 20:
            rows.append((p, "D1", "Amyloid", True))
        if 20 <= i < 26 or 40 <= i < 42:
            rows.append((p, "D3", "Tau Proteins", False))
    rows.append(("59", "D4", "Rare", True))
    return assign, pd.DataFrame(rows, columns=["pmid", "ui", "name", "major"])


def test_signature_lift_and_exact_p() -> None:
    assign, mesh = _hand_table()
    sig = lb.mesh_signature(assign, mesh)
    got = {(r.topic, r.ui): r for r in sig.itertuples()}
    assert set(got) == {(0, "D1"), (1, "D3")}  # D2 has lift 1; D3 in topic 2 not enriched
    d1 = got[(0, "D1")]
    assert d1.lift == 3.0 and d1.n_topic == 20 and d1.n_all == 20
    assert math.isclose(d1.p, 1 / comb(60, 20), rel_tol=1e-9)  # all 20 drawn of 20
    d3 = got[(1, "D3")]
    assert math.isclose(d3.lift, (6 / 20) / (8 / 60))
    # P(X >= 6), X ~ Hypergeom(N=60, K=8, n=20), by hand
    hand = sum(comb(8, k) * comb(52, 20 - k) for k in range(6, 9)) / comb(60, 20)
    assert math.isclose(d3.p, hand, rel_tol=1e-9)
    assert d3.q >= d3.p
    labels = lb.topic_labels([0, 1, 2], sig, pd.DataFrame(
        {"topic": [2], "term": ["cytokine"], "score": [1.0], "rank": [1]}))
    assert labels == {0: "Amyloid", 1: "Tau Proteins", 2: "cytokine"}


def test_major_headings_rank_first() -> None:
    # Two descriptors equally enriched in topic 0; the major one ranks first.
    assign = pd.DataFrame({"pmid": [str(i) for i in range(40)], "topic": [i // 20 for i in
                                                                          range(40)]})
    rows = [(str(i), "A", "Alpha", False) for i in range(20)]
    rows += [(str(i), "B", "Beta", True) for i in range(20)]
    sig = lb.mesh_signature(assign, pd.DataFrame(rows, columns=["pmid", "ui", "name", "major"]))
    assert sig["ui"].tolist() == ["B", "A"]
    assert sig["score"].iloc[0] == 2 * sig["score"].iloc[1]


def test_ctfidf_matches_hand_computation() -> None:
    tf = np.array([[2.0, 0.0, 1.0], [0.0, 3.0, 1.0]])
    got = lb.ctfidf_transform(tf).toarray()
    avg = (3 + 4) / 2
    f = np.array([2.0, 3.0, 2.0])
    idf = np.log(1 + avg / f)
    hand = np.array([[2 / 3, 0, 1 / 3], [0, 3 / 4, 1 / 4]]) * idf
    assert np.allclose(got, hand)


def test_top_terms_from_texts() -> None:
    texts = ["amyloid plaque amyloid", "amyloid plaque", "tau tangle", "tau tangle tau"]
    labels = np.array([0, 0, 1, 1])
    terms = lb.top_terms(texts, labels, top=2, min_df=1, stop_words=None)
    top = terms[terms["rank"] == 1].set_index("topic")["term"].to_dict()
    assert top == {0: "amyloid", 1: "tau"}
    # amyloid: tf 3 of 5 words in topic 0; f = 3 overall; A = 5 words per topic
    s = terms[(terms["topic"] == 0) & (terms["term"] == "amyloid")]["score"].item()
    assert math.isclose(s, 3 / 5 * math.log(1 + 5 / 3))
