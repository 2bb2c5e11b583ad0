"""The trend statistics on constructed series with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pubgraph.analysis import trends as tr


def _series(years: list[int], totals: list[int], shares: dict[str, list[float]],
            seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    rows = []
    for key, sh in shares.items():
        for y, t, s in zip(years, totals, sh, strict=True):
            rows.append((key, y, int(rng.poisson(t * s))))
    return pd.DataFrame(rows, columns=["key", "year", "count"]), pd.Series(totals, index=years)


def test_planted_emerging_and_declining_found_flat_not() -> None:
    years = list(range(2000, 2016))
    totals = [800 + 40 * i for i in range(len(years))]  # the field grows
    i = np.arange(len(years))
    shares = {
        "rising": list(0.01 * np.exp(0.12 * i)),  # +12.7 % share per year
        "falling": list(0.06 * np.exp(-0.08 * i)),
        **{f"flat{j}": [0.03] * len(years) for j in range(8)},
    }
    counts, tot = _series(years, totals, shares)
    table = tr.trend_table(counts, tot).set_index("key")
    assert table.loc["rising", "trend"] == "emerging"
    assert table.loc["rising", "q"] < 0.05
    assert table.loc["rising", "ci_low"] < np.expm1(0.12) < table.loc["rising", "ci_high"]
    assert table.loc["rising", "kendall_tau"] > 0.5 and table.loc["rising", "theil_slope"] > 0
    assert table.loc["falling", "trend"] == "declining"
    assert table.loc["falling", "q"] < 0.05
    flat = table.loc[[f"flat{j}" for j in range(8)]]
    assert (flat["trend"] == "stable").all()
    assert (flat["q"] > 0.05).all()
    assert set(table["trend_method"]) <= {"poisson-glm", "negbin-glm"}


def test_raw_count_growth_of_the_field_is_not_a_trend() -> None:
    # Counts triple because the whole field triples: the share is flat, so no trend.
    years = list(range(2000, 2012))
    totals = [500 * (1 + i // 4) for i in range(len(years))]
    counts, tot = _series(years, totals, {"a": [0.1] * 12, "b": [0.1] * 12}, seed=3)
    table = tr.trend_table(counts, tot).set_index("key")
    assert (table["trend"] == "stable").all()


def test_partial_last_year_flagged_and_kept_out_of_the_slope() -> None:
    years = list(range(2005, 2017))
    totals = [1000] * 11 + [250]  # the last year is still being indexed
    # the topic is indexed late: its share in the partial year looks halved
    shares = {"flat": [0.05] * 11 + [0.02], **{f"o{j}": [0.05] * 12 for j in range(3)}}
    counts, tot = _series(years, totals, shares, seed=1)
    flags = tr.year_flags(tot)
    assert flags.set_index("year").loc[2016, "partial"]
    assert flags["flagged"].sum() == 1
    table = tr.trend_table(counts, tot).set_index("key")
    assert table.loc["flat", "trend"] == "stable"
    # Without the flag the same data would read as a decline.
    no_flags = flags.assign(partial=False, flagged=False)
    naive = tr.trend_table(counts, tot, flags=no_flags).set_index("key")
    assert naive.loc["flat", "effect"] < table.loc["flat", "effect"]


def test_year_far_below_neighbours_is_flagged() -> None:
    tot = pd.Series([900, 950, 1000, 200, 1020, 1000, 980, 1010], index=range(2001, 2009))
    flags = tr.year_flags(tot).set_index("year")
    assert flags.loc[2004, "low"] and flags.loc[2004, "flagged"]
    assert flags["flagged"].sum() == 1
    assert not flags.loc[2008, "partial"]


def test_era_contrast_on_two_eras() -> None:
    years = [1977, 1978, 1979, 2020, 2021]
    assert tr.eras(years) == [[1977, 1978, 1979], [2020, 2021]]
    assert tr.choose_method(years) == "era"
    tot = pd.Series([3000, 3000, 3000, 5000, 5000], index=years)
    counts = pd.DataFrame(
        [("new", 2020, 40), ("new", 2021, 45),
         ("gone", 1977, 30), ("gone", 1978, 25), ("gone", 1979, 28),
         ("grew", 1977, 20), ("grew", 1978, 20), ("grew", 1979, 20), ("grew", 2020, 80),
         ("grew", 2021, 90),
         ("same", 1977, 90), ("same", 1978, 90), ("same", 1979, 90), ("same", 2020, 150),
         ("same", 2021, 150),
         ("tiny", 2020, 1)],
        columns=["key", "year", "count"],
    )
    table = tr.trend_table(counts, tot).set_index("key")
    assert table.loc["new", "trend"] == "new"
    assert table.loc["gone", "trend"] == "vanished"
    assert table.loc["grew", "trend"] == "grew"
    # grew: 60/9000 vs 170/10000 -> rate ratio 2.55
    assert abs(table.loc["grew", "effect"] - (170 / 10000) / (60 / 9000) + 1) < 1e-9
    assert table.loc["grew", "ci_low"] < 1.55 < table.loc["grew", "ci_high"]
    assert table.loc["same", "trend"] == "stable"
    assert table.loc["tiny", "trend"] == "insufficient"
    assert table.loc["grew", "trend_method"].startswith("era-contrast")


def test_year_table_fills_zeros_and_shares() -> None:
    tot = pd.Series([10, 20], index=[2000, 2001])
    flags = tr.year_flags(tot)
    yt = tr.year_table(pd.DataFrame({"key": [1], "year": [2001], "count": [5]}), flags)
    assert yt[["year", "count", "total"]].values.tolist() == [[2000, 0, 10], [2001, 5, 20]]
    assert yt["share"].tolist() == [0.0, 0.25]


def test_sparse_early_years_are_flagged_and_not_fitted() -> None:
    # A 2000-2015 corpus with a few old articles (1985, 1990): their shares are noise.
    years = [1985, 1990, *range(2000, 2016)]
    tot = pd.Series([2, 3] + [800] * 16, index=years)
    flags = tr.year_flags(tot).set_index("year")
    assert flags.loc[1985, "sparse"] and flags.loc[1990, "sparse"]
    assert not flags.loc[2000:, "flagged"].any()
    # a topic that is all of the old years and flat afterwards is not "declining"
    rows = [("t", 1985, 2), ("t", 1990, 3)] + [("t", y, 40) for y in range(2000, 2016)]
    rows += [("u", y, 40) for y in range(2000, 2016)]
    table = tr.trend_table(pd.DataFrame(rows, columns=["key", "year", "count"]), tot)
    assert table.set_index("key").loc["t", "trend"] == "stable"


def test_batched_glm_matches_statsmodels_one_series_at_a_time() -> None:
    """``fit_loglinear`` fits every row at once; each row must equal statsmodels' own GLM
    (Poisson, and NB2 at a fixed alpha) on that series: slope, its standard error, p."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    rng = np.random.default_rng(11)
    years = np.arange(2000, 2020)
    total = rng.integers(200, 900, size=len(years)).astype(float)
    x1 = years - years.mean()
    slopes = rng.normal(0.0, 0.08, size=40)
    base = rng.uniform(0.002, 0.05, size=40)
    mean = total[None, :] * base[:, None] * np.exp(slopes[:, None] * x1[None, :])
    y = rng.negative_binomial(5, 5 / (5 + mean)).astype(float)  # over-dispersed counts
    y[0, :] = 0.0
    y[0, 3] = 12.0  # a single year of counts: an extreme fit that must still agree
    off = np.log(total)
    x = np.column_stack([np.ones(len(years)), x1])
    alpha = rng.uniform(0.05, 0.5, size=40)
    for a in (None, alpha):
        got = tr.fit_loglinear(y, x1, off, a)
        for i in range(len(y)):
            fam = families.Poisson() if a is None else families.NegativeBinomial(alpha=a[i])
            ref = GLM(y[i], x, family=fam, offset=off).fit()
            assert got["b1"][i] == pytest.approx(ref.params[1], rel=1e-4, abs=1e-9)
            assert got["se1"][i] == pytest.approx(ref.bse[1], rel=1e-4)
            assert got["p1"][i] == pytest.approx(ref.pvalues[1], rel=1e-3, abs=1e-12)
            assert got["pearson_chi2"][i] == pytest.approx(ref.pearson_chi2, rel=1e-4)


def test_kendall_and_theil_sen_rows_match_scipy_row_by_row() -> None:
    """The vectorised cross-checks equal scipy's ``kendalltau`` and ``theilslopes`` on every
    row: shares with ties (zero years, repeated counts) and without."""
    from scipy.stats import kendalltau, theilslopes

    rng = np.random.default_rng(5)
    years = np.arange(2000, 2024)
    total = rng.integers(100, 400, size=len(years)).astype(float)
    counts = rng.poisson(rng.uniform(0.3, 20.0, size=(60, 1)), size=(60, len(years)))
    shares = counts / total  # low rates: zero years, ties
    shares[0] = np.linspace(0.01, 0.2, len(years))  # no ties, monotone
    shares[1] = rng.uniform(0, 1, len(years))  # no ties
    tau, p = tr.kendall_rows(years, shares)
    med, lo, hi = tr.theil_sen_rows(years, shares)
    assert (np.diff(np.sort(shares[2:], axis=1), axis=1) == 0).any()  # ties are covered
    for r in range(len(shares)):
        ref = kendalltau(years, shares[r])
        assert tau[r] == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
        assert p[r] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
        ts = theilslopes(shares[r], years, alpha=0.95)
        assert (med[r], lo[r], hi[r]) == pytest.approx((ts[0], ts[2], ts[3]), rel=1e-9,
                                                       abs=1e-15)


def test_era_rows_equal_statsmodels_one_key_at_a_time() -> None:
    """The era contrast for many keys at once: the same p-values as one
    ``test_poisson_2indep`` call per key (exact below 20 articles in an era, score above)
    and the MOVER interval of the rate ratio, per key."""
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    rng = np.random.default_rng(2)
    years = [1977, 1978, 1979, 2020, 2021]
    totals = pd.Series([9000, 9500, 9800, 12000, 11000], index=years)
    early, late = years[:3], years[3:]
    counts = rng.poisson(rng.uniform(0.0, 60.0, size=(50, 1)), size=(50, 5)).astype(float)
    counts[0, 3:] = 0  # vanished
    counts[1, :3] = 0  # new
    keys = [f"d{i}" for i in range(50)]
    wide = pd.DataFrame(counts, index=keys, columns=years)
    rows = tr.era_rows(keys, wide, totals, early, late, tr.TrendParams())
    t1, t2 = float(totals[early].sum()), float(totals[late].sum())
    checked = 0
    for r, row in enumerate(rows):
        c1, c2 = int(counts[r, :3].sum()), int(counts[r, 3:].sum())
        assert (row["count_early"], row["count_late"]) == (c1, c2)
        if c1 + c2 < 5:
            assert "p" not in row
            continue
        method = "exact-cond" if min(c1, c2) < 20 else "score"
        ref = test_poisson_2indep(c2, t2, c1, t1, method=method, compare="ratio")
        assert row["trend_method"] == f"era-contrast ({method})"
        assert row["p"] == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-300)
        lo, hi = confint_poisson_2indep(c2, t2, c1, t1, method="mover", compare="ratio")
        if np.isfinite(lo):
            assert row["ci_low"] == pytest.approx(float(lo) - 1, rel=1e-9, abs=1e-12)
        if np.isfinite(hi):
            assert row["ci_high"] == pytest.approx(float(hi) - 1, rel=1e-9, abs=1e-12)
        checked += 1
    assert checked > 30
