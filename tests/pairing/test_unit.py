"""Pure pairing code: configuration, splits, tree distance, IDF, selection rules, exports,
and the exact text of the statements that matter. No database."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pubgraph.core.errors import PairingError
from pubgraph.pairing import queries as q
from pubgraph.pairing.config import (
    DEFAULT_STRATEGIES,
    STRATEGIES,
    PairingConfig,
    SplitConfig,
    config_from_dict,
    default_params,
    load_config,
    make_params,
    parse_strategies,
)
from pubgraph.pairing.export import build_rows
from pubgraph.pairing.jobs import expected_negatives, run_id_for
from pubgraph.pairing.splits import assign_splits, derive_seed, hash_split, unit_hash
from pubgraph.pairing.strategies import (
    Candidate,
    Selector,
    _exact_band,
    article_tree_distance,
    idf_weights,
    job_for,
    positive_order,
    random_proposals,
    rank_band,
    tree_distance,
    tree_path,
)

REPO = Path(__file__).resolve().parents[2]

# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "strategy,values,message",
    [
        ("co_citation", {"k": 0}, "co_citation: parameter 'k' must be a positive integer, got 0"),
        ("bib_coupling", {"k": -2}, "bib_coupling: parameter 'k' must be a positive integer"),
        ("shared_mesh", {"k": 0}, "shared_mesh: parameter 'k' must be a positive integer"),
        ("shared_mesh", {"k": "2"}, "shared_mesh: parameter 'k' must be a positive integer"),
        ("shared_mesh", {"max_df": 0}, "parameter 'max_df' must be between"),
        ("shared_mesh", {"max_df": 1.5}, "parameter 'max_df' must be between"),
        ("co_citation", {"weight": "cosine"}, "must be 'salton' or 'jaccard'"),
        ("co_citation", {"kk": 2}, "co_citation: unknown parameter 'kk'"),
        ("random_distant", {"max_hops": 0}, "parameter 'max_hops' must be a positive integer"),
        ("random_distant", {"max_hops": 9}, "parameter 'max_hops' must be <= 4"),
        ("mesh_distant", {"min_distance": 0}, "parameter 'min_distance' must be a positive"),
        ("hard", {"rank_band": [100, 20]}, "parameter 'rank_band' must be two ranks"),
        ("hard", {"rank_band": [0, 20]}, "parameter 'rank_band' must be two ranks"),
        ("hard", {"vector": "gpu"}, "parameter 'vector' must be auto, index, exact or off"),
        ("hard", {"guard_major_k": 0}, "parameter 'guard_major_k' must be a positive integer"),
        ("cites", {"max_per_article": 0}, "parameter 'max_per_article' must be a positive"),
    ],
)
def test_bad_parameters_are_pairing_errors(strategy: str, values: dict, message: str) -> None:
    with pytest.raises(PairingError, match=re.escape(message)):
        make_params(strategy, values)


def test_strategy_names() -> None:
    assert (
        parse_strategies(None)
        == DEFAULT_STRATEGIES
        == ("cites", "co_citation", "bib_coupling", "shared_mesh", "random_distant", "hard")
    )
    assert parse_strategies("hard, cites,hard") == ("hard", "cites")
    with pytest.raises(PairingError, match="unknown strategy 'citez'"):
        parse_strategies("cites,citez")
    with pytest.raises(PairingError, match="no strategy given"):
        parse_strategies(" , ")


@pytest.mark.parametrize(
    "data,message",
    [
        ({"strategy": ["cites"]}, "unknown key 'strategy'"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"max_pairs_per_article": 0}, "'max_pairs_per_article' must be a positive integer"),
        ({"negatives_per_positive": -1}, "'negatives_per_positive' must be between"),
        ({"splits": {"train": 0.5, "validation": 0.1, "test": 0.1}}, "must be 1, got 0.7"),
        ({"splits": {"tran": 0.5}}, "unknown key 'splits.tran'"),
        ({"params": {"shared_mesh": {"k": 0}}}, "shared_mesh: parameter 'k'"),
        ({"params": {"nope": {}}}, "unknown strategy 'nope'"),
    ],
)
def test_bad_config_is_a_pairing_error(data: dict, message: str) -> None:
    with pytest.raises(PairingError, match=re.escape(message)):
        config_from_dict(data)


def test_load_config_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(PairingError, match="no such pairing config file"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("strategies: [cites\n")
    with pytest.raises(PairingError, match=re.escape(f"{bad}: not valid YAML")):
        load_config(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("seed: 1\nratio: 2\n")
    with pytest.raises(PairingError, match=re.escape(f"{wrong}: unknown key 'ratio'")):
        load_config(wrong)


def test_sample_pairs_yaml_in_the_docs_is_valid(tmp_path: Path) -> None:
    text = (REPO / "docs" / "pairing.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    path = tmp_path / "pairs.yaml"
    path.write_text(block.group(1))
    config = load_config(path)
    assert config.strategies == DEFAULT_STRATEGIES
    assert config.params_for("shared_mesh") == make_params(
        "shared_mesh", {"k": 2, "max_df": 0.005, "min_idf": 12.0, "major_only": False}
    )
    assert config.to_dict()["params"]["hard"]["rank_band"] == [20, 100]


def test_overrides_and_caps() -> None:
    base = config_from_dict({"params": {"hard": {"max_per_article": 3}}})
    new = base.with_overrides(
        strategies="cites,hard", seed=4, split_by_year=2019, max_pairs_per_article=None
    )
    assert new.strategies == ("cites", "hard")
    assert new.seed == 4 and new.splits.by_year == 2019
    assert new.cap_for("cites") == 10 and new.cap_for("hard") == 3
    with pytest.raises(PairingError, match="unknown strategy"):
        base.with_overrides(strategies="cites,bogus")


def test_default_params_of_every_strategy_validate() -> None:
    for name in STRATEGIES:
        params = default_params(name)
        params.validate()
        job = job_for(name, params)
        assert job.label == (0 if name in ("random_distant", "mesh_distant", "hard") else 1)


def test_run_id_depends_on_config_and_graph() -> None:
    fp = {"text_articles": 10, "cites": 3}
    a = PairingConfig()
    assert run_id_for(a, fp) == run_id_for(PairingConfig(), dict(fp))
    assert run_id_for(a, fp) != run_id_for(PairingConfig(seed=14), fp)
    assert run_id_for(a, fp) != run_id_for(a, {**fp, "cites": 4})
    assert re.fullmatch(r"pr-[0-9a-f]{12}", run_id_for(a, fp))


def test_expected_negatives() -> None:
    assert expected_negatives(10, PairingConfig(negatives_per_positive=1.5)) == 15
    only_neg = PairingConfig(strategies=("hard",), negatives_without_positives=7)
    assert expected_negatives(10, only_neg) == 7


# --- splits ------------------------------------------------------------------------------------


def test_hash_split_fractions_and_stability() -> None:
    config = SplitConfig(train=0.7, validation=0.2, test=0.1)
    pmids = [str(i) for i in range(20000)]
    counts = Counter(hash_split(p, 3, config) for p in pmids)
    assert counts["train"] / 20000 == pytest.approx(0.7, abs=0.015)
    assert counts["validation"] / 20000 == pytest.approx(0.2, abs=0.015)
    assert counts["test"] / 20000 == pytest.approx(0.1, abs=0.015)
    again = [hash_split(p, 3, config) for p in pmids[:500]]
    assert again == [hash_split(p, 3, config) for p in pmids[:500]]
    other = [hash_split(p, 4, config) for p in pmids[:500]]
    assert again != other
    assert 0.0 <= unit_hash(1, "x") < 1.0
    assert derive_seed(1, "a") != derive_seed(1, "b") != derive_seed(2, "b")


def test_year_split_and_unassigned() -> None:
    config = SplitConfig(train=0.8, validation=0.1, test=0.1, by_year=2019)
    articles = [(str(i), 2010 + i % 12) for i in range(3000)] + [("x", None)]
    s = assign_splits(articles, 1, config)
    for pmid, year in articles[:-1]:
        assert (s.split_of[pmid] == "test") == (year >= 2019)
    older = [s.split_of[p] for p, y in articles[:-1] if y < 2019]
    assert Counter(older)["validation"] / len(older) == pytest.approx(0.1 / 0.9, abs=0.03)
    assert s.unassigned == ("x",)
    assert s.counts()["unassigned"] == 1
    assert not s.same_split("x", "x")


# --- distances, weights, ranks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "a,b,d",
    [
        ("A01.236.500", "A01.378", 3),
        ("A01.236.500", "A01.236.500", 0),
        ("A01.236", "A01.236.500", 1),
        ("C04", "C15", 2),
        ("A01", "C04", 4),
        ("A01.236.500", "C04.557", 7),
        ("A01.236", "A02.236", 4),  # same last component, different parents
    ],
)
def test_tree_distance(a: str, b: str, d: int) -> None:
    assert tree_distance(a, b) == d == tree_distance(b, a)


def test_tree_path_and_article_distance() -> None:
    assert tree_path("A01.236.500") == ("A", "A01", "236", "500")
    a = [tree_path("A01.236.500"), tree_path("G01")]
    b = [tree_path("C04.557"), tree_path("G01.100")]
    assert article_tree_distance(a, b) == 1  # G01 ↔ G01.100
    assert article_tree_distance(a, []) is None


def test_idf_weights_cap_and_singletons() -> None:
    w = idf_weights(100, {"rare": 2, "mid": 5, "common": 60, "single": 1}, max_df=0.1)
    assert w == pytest.approx({"rare": np.log(50), "mid": np.log(20)})


def test_rank_band_orders_by_score_then_pmid() -> None:
    neighbours = [("5", 0.9), ("3", 0.8), ("4", 0.8), ("1", 0.95), ("2", 0.1)]
    assert rank_band(neighbours, 2, 4) == [("5", 0.9), ("3", 0.8), ("4", 0.8)]
    assert rank_band(neighbours, 5, 9) == [("2", 0.1)]


def _angles(degrees: dict[str, float]) -> tuple[list[str], np.ndarray]:
    pmids = sorted(degrees)
    r = np.radians([degrees[p] for p in pmids])
    return pmids, np.stack([np.cos(r), np.sin(r)], axis=1).astype(np.float32)


def test_exact_band_ranks_within_the_anchor_split() -> None:
    # 0°, 20°, 50°, 90°, 140°, 200°; train = 1, 3, 5 and test = 2, 4, 6.
    pmids, matrix = _angles({"1": 0, "2": 20, "3": 50, "4": 90, "5": 140, "6": 200})
    split_of = {"1": "train", "3": "train", "5": "train", "2": "test", "4": "test", "6": "test"}
    anchors = ["1", "2", "3", "4", "5", "6"]

    def nearest(split: dict[str, str] | None) -> dict[str, str]:
        rng = np.random.default_rng(0)
        got = _exact_band(pmids, matrix, anchors, 1, 1, rng, split)
        return {c.pmid_a: c.pmid_b for c in got}

    # Over the whole corpus the nearest neighbour is mostly in the other split ...
    assert nearest(None) == {"1": "2", "2": "1", "3": "2", "4": "3", "5": "4", "6": "5"}
    # ... within the split it is the nearest article of the anchor's own split.
    assert nearest(split_of) == {"1": "3", "2": "4", "3": "1", "4": "2", "5": "3", "6": "4"}


def test_exact_band_skips_articles_without_a_split() -> None:
    pmids, matrix = _angles({"1": 0, "2": 10, "3": 30})
    got = list(_exact_band(pmids, matrix, ["1", "2", "3"], 1, 1, np.random.default_rng(0),
                           {"1": "train", "3": "train"}))
    # 2 has no split: it is neither an anchor nor a candidate.
    assert {(c.pmid_a, c.pmid_b) for c in got} == {("1", "3"), ("3", "1")}


def test_positive_order() -> None:
    cands = [Candidate("2", "3", 1.0), Candidate("1", "9", 2.0), Candidate("1", "3", 1.0)]
    assert [(c.pmid_a, c.pmid_b) for c in positive_order(cands)] == [
        ("1", "9"),
        ("1", "3"),
        ("2", "3"),
    ]


def test_selector_rules() -> None:
    splits = assign_splits(
        [("1", 2000), ("2", 2000), ("3", 2000), ("4", 2020), ("5", None)],
        0,
        SplitConfig(train=1.0, validation=0.0, test=0.0, by_year=2019),
    )
    taken: dict[tuple[str, str], int] = {}
    pos = Selector("cites", 1, splits, cap=1, taken=taken)
    assert pos.offer(Candidate("1", "2", 1.0))
    assert not pos.offer(Candidate("2", "1", 1.0))  # same unordered pair
    assert not pos.offer(Candidate("1", "3", 1.0))  # 1 is at its cap
    assert not pos.offer(Candidate("3", "4", 1.0))  # train vs test
    assert not pos.offer(Candidate("3", "5", 1.0))  # 5 has no split
    assert not pos.offer(Candidate("3", "3", 1.0))
    assert pos.stats == Counter(
        kept=1, duplicate=1, capped=1, cross_split=1, unassigned=1, self_pair=1
    )
    neg = Selector("random_distant", 0, splits, cap=5, taken=taken)
    assert not neg.offer(Candidate("2", "1", 0.0))
    assert neg.stats["conflict"] == 1


def test_random_proposals_are_seeded_and_stay_in_split() -> None:
    split_of = {str(i): ("train" if i < 50 else "test") for i in range(60)}
    pools = {"train": [str(i) for i in range(50)], "test": [str(i) for i in range(50, 60)]}

    def draw(seed: int) -> list[Candidate]:
        rng = np.random.default_rng(seed)
        return list(random_proposals(["1", "55"], pools, split_of, rng, limit=40))

    first = draw(1)
    assert first == draw(1) != draw(2)
    assert all(split_of[c.pmid_a] == split_of[c.pmid_b] for c in first)
    assert {c.pmid_a for c in first} == {"1", "55"}
    assert len(first) <= 40


# --- statements ----------------------------------------------------------------------------------


def test_pinned_statements() -> None:
    assert (
        q.CITES_PAIRS
        == """
MATCH (a:Article)-[:CITES]->(b:Article)
WHERE a.stub = false AND b.stub = false AND a <> b
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b, 1.0 AS score
ORDER BY pmid_a, pmid_b
"""
    )
    assert (
        q.no_path_within(2)
        == """
UNWIND $pairs AS pair
MATCH (a:Article {pmid: pair[0]}), (b:Article {pmid: pair[1]})
WHERE NOT EXISTS {
    (a)-[:HAS_MESH]->(m:MeshTerm)<-[:HAS_MESH]-(b) WHERE NOT m.ui IN $excluded
  }
  AND NOT EXISTS { (a)-[:CITES]-{1,2}(b) }
RETURN a.pmid AS pmid_a, b.pmid AS pmid_b
"""
    )
    assert "(a)-[:CITES]-{1,1}(b)" in q.hard_guard(1)
    assert (
        "WHERE shared >= $k AND weight >= $min_idf AND b.pmid > a.pmid AND b.stub = false"
        in q.SHARED_MESH_PAIRS
    )
    assert "CALL (a) {" in q.CO_CITATION_PAIRS and "count(DISTINCT c) AS shared" in (
        q.CO_CITATION_PAIRS
    )
    for bad in (0, 5, "2", True):
        with pytest.raises(ValueError):
            q.no_path_within(bad)  # type: ignore[arg-type]


def test_statements_take_values_only_as_parameters() -> None:
    # No quoted literals besides the two documented ones (the weight names, the index
    # label/property of SHOW VECTOR INDEXES).
    allowed = {"'jaccard'", "'Article'", "'embedding'", "'.'", "'ONLINE'"}
    for name in dir(q):
        value = getattr(q, name)
        if name.isupper() and isinstance(value, str):
            literals = set(re.findall(r"'[^']*'", value))
            assert literals <= allowed, (name, literals - allowed)


def test_job_statement_names() -> None:
    names = {s: [st.name for st in job_for(s, default_params(s)).statements] for s in STRATEGIES}
    assert names["shared_mesh"] == [
        "mesh_article_count",
        "mesh_document_frequencies",
        "shared_mesh_pairs",
    ]
    assert names["hard"][:3] == [
        "mesh_hierarchy_loaded",
        "major_branch_members",
        "two_hop_candidates",
    ]
    major = job_for("shared_mesh", make_params("shared_mesh", {"major_only": True}))
    assert major.statement("shared_mesh_pairs").query == q.SHARED_MESH_MAJOR_PAIRS


# --- exports ---------------------------------------------------------------------------


def _pair(a: str, b: str, label: int, strategy: str = "s") -> dict:
    return {
        "pmid_a": a,
        "pmid_b": b,
        "label": label,
        "strategy": strategy,
        "score": 1.0,
        "split": "train",
    }


def test_build_rows_triplets_round_robin() -> None:
    texts = {p: f"t{p}" for p in "123456"}
    pairs = [
        _pair("1", "2", 1),
        _pair("1", "3", 1),
        _pair("4", "2", 1),
        _pair("5", "6", 1),
        _pair("1", "5", 0),
        _pair("6", "1", 0),
        _pair("2", "9", 0),
    ]
    rows, skipped = build_rows("triplets", pairs, texts)
    got = [(r["anchor_pmid"], r["positive_pmid"], r["negative_pmid"]) for r in rows]
    # 1's negatives in order: 5, 6; 4 has none, so 2 anchors (its negative 9 has no text);
    # 5 has negative 1.
    assert got == [("1", "2", "5"), ("1", "3", "6"), ("5", "6", "1")]
    assert skipped == {"no_text": 1}
    assert rows[0]["anchor"] == "t1" and rows[0]["negative"] == "t5"

    pos, _ = build_rows("pairs", pairs, texts)
    assert [(r["anchor_pmid"], r["positive_pmid"]) for r in pos] == [
        ("1", "2"),
        ("1", "3"),
        ("4", "2"),
        ("5", "6"),
    ]
    lab, skipped = build_rows("labelled", pairs, texts)
    assert [r["label"] for r in lab] == [1, 1, 1, 1, 0, 0]
    assert skipped == {"no_text": 1}


def test_shared_mesh_with_no_pairs_warns_with_reason_and_option() -> None:
    from pubgraph.pairing.config import PairingConfig
    from pubgraph.pairing.jobs import strategy_warning

    cfg = PairingConfig()
    said = strategy_warning(
        "shared_mesh", {"kept": 0, "mesh_articles": 40, "eligible_descriptors": 0}, cfg
    )
    assert said is not None
    assert "0 pairs" in said and "max_df=0.005" in said and "40 articles" in said
    assert "pairs.yaml" in said and "raise max_df" in said
    assert strategy_warning("shared_mesh", {"kept": 3}, cfg) is None


def test_hard_finding_little_says_what_it_needs() -> None:
    from pubgraph.pairing.config import PairingConfig
    from pubgraph.pairing.jobs import strategy_warning

    counts = {
        "kept": 5, "budget": 31000,
        "branch": "skipped: MeSH hierarchy not loaded (pubgraph graph load-mesh)",
        "vector": "skipped: no article has an embedding",
    }
    said = strategy_warning("hard", counts, PairingConfig())
    assert said is not None and "5 of 31,000" in said
    assert "pubgraph graph load-mesh" in said and "pubgraph embed" in said
    assert strategy_warning("hard", {**counts, "kept": 20000}, PairingConfig()) is None
