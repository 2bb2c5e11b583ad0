"""Trends: counts per year normalised by the year's total, tested, labelled.

The method follows the data and says which it used (``trend_method``):

* **GLM** where the longest run of consecutive years has at least ``min_years`` years: a
  Poisson GLM of the yearly count with ``log(total)`` offset (the slope is the log rate
  ratio of the *share* per year); where the Pearson dispersion exceeds 1.5 a
  negative-binomial GLM with the moment estimate of its alpha. The slope's Wald interval,
  cross-checked by Mann–Kendall (Kendall's tau of share against year) and the Theil–Sen
  slope of the share. Labels **emerging** / **declining** (q < alpha and the yearly change at
  least ``min_effect``) or **stable**; **insufficient** under ``min_count`` articles.
* **Era contrast** otherwise (sparse years, or years split into eras such as 1977–79 and
  2020–21): the rate ratio of shares between the first and the last era (halves of the
  years when there is one short era) with ``test_poisson_2indep`` (exact conditional test
  below 20 articles, score test above; MOVER interval of the ratio). Labels **new**,
  **vanished**, **grew**, **shrank**,
  **stable** or **insufficient**.

q-values are Benjamini–Hochberg across the topics (or descriptors) tested together. A
partial last year and years far below their neighbours are flagged and left out of the
slope; they are drawn apart in the figures, never read as a decline.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pubgraph.analysis.labels import bh

TREND_COLUMNS = [
    "key", "trend", "trend_method", "n", "effect", "ci_low", "ci_high", "p", "q",
    "kendall_tau", "kendall_p", "theil_slope", "theil_low", "theil_high", "count_early",
    "count_late",
]


@dataclass(frozen=True)
class TrendParams:
    """Thresholds of the trend test."""

    min_years: int = 8
    alpha: float = 0.05
    min_effect: float = 0.02  # 2 % change of the share per year (GLM)
    min_count: int = 10
    partial_ratio: float = 0.6  # last year below 60 % of the median of the 3 before it
    low_ratio: float = 0.5  # a year below half the median of its neighbours (±2 years)
    sparse_ratio: float = 0.1  # a year under 10 % of the median year (or under 10 articles)
    sparse_min: int = 10


def year_flags(totals: pd.Series, params: TrendParams = TrendParams()) -> pd.DataFrame:
    """``year, total, partial, low, sparse, flagged``: which years the slope must not use.

    ``sparse``: a year with under ``sparse_ratio`` of the median year's articles or under
    ``sparse_min`` (a corpus of 2000–2023 with a few older articles: their shares are noise).

    ``partial``: the last year has under ``partial_ratio`` of the median of the (up to) three
    years before it (a year still being indexed). ``low``: a year under ``low_ratio`` of the
    median of its neighbours within two years.
    """
    t = totals.sort_index().astype(float)
    years = t.index.to_numpy()
    partial = np.zeros(len(t), dtype=bool)
    low = np.zeros(len(t), dtype=bool)
    sparse = ((t < params.sparse_ratio * float(t.median())) | (t < params.sparse_min)).to_numpy(
        copy=True)
    dense = t[~sparse]
    for i, y in enumerate(years):
        if sparse[i]:
            continue
        near = dense[(dense.index != y) & (np.abs(dense.index - y) <= 2)]
        if len(near) >= 2 and t.iloc[i] < params.low_ratio * float(near.median()):
            low[i] = True
    if len(t) >= 3:
        prev = dense[(dense.index < years[-1]) & (dense.index >= years[-1] - 3)]
        if len(prev) >= 2 and t.iloc[-1] < params.partial_ratio * float(prev.median()):
            partial[-1] = True
            low[-1] = False
            sparse[-1] = False
    return pd.DataFrame(
        {"year": years.astype(int), "total": t.to_numpy().astype(int), "partial": partial,
         "low": low, "sparse": sparse, "flagged": partial | low | sparse}
    )


def eras(years: list[int] | np.ndarray) -> list[list[int]]:
    """Runs of consecutive years: ``[1977, 1978, 1979, 2020, 2021]`` → two eras."""
    out: list[list[int]] = []
    for y in sorted(int(v) for v in years):
        if out and y == out[-1][-1] + 1:
            out[-1].append(y)
        else:
            out.append([y])
    return out


def choose_method(years: list[int] | np.ndarray, params: TrendParams = TrendParams()) -> str:
    """``glm`` when the longest run of consecutive years is long enough, else ``era``."""
    runs = eras(years)
    return "glm" if runs and max(len(r) for r in runs) >= params.min_years else "era"


def trend_table(
    counts: pd.DataFrame,
    totals: pd.Series,
    params: TrendParams = TrendParams(),
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per ``key`` (topic or descriptor): ``TREND_COLUMNS``.

    ``counts``: ``key, year, count``; ``totals``: articles per year (the exposure).
    """
    totals = totals[totals > 0].sort_index()
    flags = year_flags(totals, params) if flags is None else flags
    flagged = set(flags.loc[flags["flagged"], "year"].astype(int).tolist())
    sparse = set(flags.loc[flags["sparse"], "year"].astype(int).tolist()) if "sparse" in flags \
        else set()
    years = [int(y) for y in totals.index]
    # Runs of consecutive years are read among the years that are not sparse.
    dense_years = [y for y in years if y not in sparse]
    method = choose_method(dense_years, params)
    wide = (
        counts.pivot_table(index="key", columns="year", values="count", aggfunc="sum")
        .reindex(columns=years).fillna(0.0)
    )
    if method == "glm":
        run = max(eras(dense_years), key=len)
        use = [y for y in run if y not in flagged]
        rows = glm_rows(list(wide.index), wide.loc[:, use].to_numpy(dtype=float),
                        totals[use].to_numpy(dtype=float), np.asarray(use), params)
    else:
        runs = eras([y for y in years if y not in flagged])
        if len(runs) >= 2:
            early, late = runs[0], runs[-1]
        else:
            ys = runs[0] if runs else []
            early, late = ys[: len(ys) // 2], ys[len(ys) - len(ys) // 2:]
        rows = era_rows(list(wide.index), wide, totals, early, late, params)
    df = pd.DataFrame(rows, columns=TREND_COLUMNS)
    tested = df["p"].notna()
    df.loc[tested, "q"] = bh(df.loc[tested, "p"].to_numpy())
    df["trend"] = [_label(r, params) for r in df.itertuples(index=False)]
    return df


def fit_loglinear(
    y: np.ndarray, x1: np.ndarray, offset: np.ndarray, alpha: np.ndarray | None = None,
    *, max_iter: int = 100, tol: float = 1e-8,
) -> dict[str, np.ndarray]:
    """Poisson (``alpha`` None) or NB2 (fixed ``alpha`` per row) GLMs with log link,
    ``log mu = b0 + b1 * x1 + offset``, fitted to every row of ``y`` at once by IRLS.

    The same model, start values (``(y + mean y) / 2``), deviance convergence test and Wald
    statistics (scale 1, normal reference) as statsmodels' ``GLM(...).fit()``, which fits one
    series per call: with 2,400 MeSH descriptors that loop took minutes, this takes well
    under a second. ``tests/analysis/test_trends.py`` pins it to statsmodels.

    Returns ``b0, b1, se1, p1, mu, pearson_chi2`` (arrays over rows; ``mu`` is rows × T).
    """
    from scipy.stats import norm

    y = np.asarray(y, dtype=float)
    x1 = np.asarray(x1, dtype=float)
    off = np.asarray(offset, dtype=float)
    a = np.zeros(y.shape[0]) if alpha is None else np.asarray(alpha, dtype=float)
    mu = (y + y.mean(axis=1, keepdims=True)) / 2.0
    eta = np.log(mu)

    def deviance(mu: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ylog = np.where(y > 0, y * np.log(y / mu), 0.0)
            if alpha is None:
                return np.asarray(2.0 * np.sum(ylog - (y - mu), axis=1))
            ai = a[:, None]
            nb = (y + 1.0 / ai) * np.log((1.0 + ai * y) / (1.0 + ai * mu))
            return np.asarray(2.0 * np.sum(ylog - nb, axis=1))

    dev = deviance(mu)
    active = np.ones(y.shape[0], dtype=bool)
    b0 = np.zeros(y.shape[0])
    b1 = np.zeros(y.shape[0])
    w = np.ones_like(y)
    for _ in range(max_iter):
        # Weights of the log link: (dmu/deta)^2 / var = mu^2 / (mu + alpha mu^2).
        w = mu / (1.0 + a[:, None] * mu)
        z = (eta - off) + (y - mu) / mu
        s00, s01, s11 = w.sum(1), (w * x1).sum(1), (w * x1 * x1).sum(1)
        r0, r1 = (w * z).sum(1), (w * z * x1).sum(1)
        det = s00 * s11 - s01**2
        nb0 = (s11 * r0 - s01 * r1) / det
        nb1 = (s00 * r1 - s01 * r0) / det
        b0 = np.where(active, nb0, b0)
        b1 = np.where(active, nb1, b1)
        eta = b0[:, None] + b1[:, None] * x1[None, :] + off[None, :]
        mu = np.exp(eta)
        new_dev = deviance(mu)
        converged = np.abs(new_dev - dev) <= tol * (np.abs(dev) + tol)
        dev = new_dev
        active &= ~converged
        if not active.any():
            break
    # Wald statistics from the information at the fitted values (statsmodels uses the last
    # IRLS weights, equal at convergence).
    w = mu / (1.0 + a[:, None] * mu)
    s00, s01, s11 = w.sum(1), (w * x1).sum(1), (w * x1 * x1).sum(1)
    se1 = np.sqrt(s00 / (s00 * s11 - s01**2))
    p1 = 2.0 * norm.sf(np.abs(b1 / se1))
    chi2 = np.sum((y - mu) ** 2 / (mu + a[:, None] * mu**2), axis=1)
    return {"b0": b0, "b1": b1, "se1": se1, "p1": p1, "mu": mu, "pearson_chi2": chi2}


def glm_rows(keys: list[object], y: np.ndarray, total: np.ndarray, year: np.ndarray,
             params: TrendParams) -> list[dict[str, object]]:
    """The GLM trend row of each key (``y``: keys × years of counts): Poisson, or NB2 with
    Cameron & Trivedi's moment estimate of alpha where the Pearson dispersion exceeds 1.5;
    the slope's Wald interval, and Kendall's tau and the Theil–Sen slope of the share."""
    rows: list[dict[str, object]] = [
        {"key": k, "trend_method": "poisson-glm", "n": int(y[i].sum())}
        for i, k in enumerate(keys)
    ]
    fit_idx = np.flatnonzero(y.sum(axis=1) >= params.min_count) if len(year) >= 3 \
        else np.array([], dtype=np.int64)
    if not len(fit_idx):
        return rows
    yy = y[fit_idx]
    x1 = (year - year.mean()).astype(float)
    off = np.log(total.astype(float))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        fit = fit_loglinear(yy, x1, off)
        dispersion = fit["pearson_chi2"] / max(len(year) - 2, 1)
        over = dispersion > 1.5
        if over.any():
            mu = fit["mu"][over]
            yo = yy[over]
            alpha = np.maximum(np.sum((yo - mu) ** 2 - yo, axis=1) / np.sum(mu**2, axis=1),
                               1e-6)
            nb = fit_loglinear(yo, x1, off, alpha)
            for name in ("b1", "se1", "p1"):
                fit[name] = fit[name].copy()
                fit[name][over] = nb[name]
    z = 1.959963984540054  # the 97.5 % normal quantile (statsmodels' conf_int)
    shares = yy / total[None, :]
    tau, tau_p = kendall_rows(year, shares)
    theil, theil_lo, theil_hi = theil_sen_rows(year, shares)
    for pos, i in enumerate(fit_idx):
        slope, se = float(fit["b1"][pos]), float(fit["se1"][pos])
        if not (math.isfinite(slope) and math.isfinite(se)):
            continue
        rows[i].update(
            trend_method="negbin-glm" if over[pos] else "poisson-glm",
            effect=math.expm1(slope), ci_low=math.expm1(slope - z * se),
            ci_high=math.expm1(slope + z * se), p=float(fit["p1"][pos]),
            kendall_tau=float(tau[pos]), kendall_p=float(tau_p[pos]),
            theil_slope=float(theil[pos]), theil_low=float(theil_lo[pos]),
            theil_high=float(theil_hi[pos]),
        )
    return rows


def _tie_sums(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, over the groups of equal values (size t): sum t(t-1)/2, sum t(t-1)(t-2),
    sum t(t-1)(2t+5)."""
    s = np.sort(y, axis=1)
    n = y.shape[1]
    ties = np.zeros((3, y.shape[0]))
    # Run lengths of equal neighbours in each sorted row.
    new_run = np.ones_like(s, dtype=bool)
    new_run[:, 1:] = s[:, 1:] != s[:, :-1]
    for r in np.flatnonzero(~new_run.all(axis=1)):
        starts = np.flatnonzero(new_run[r])
        t = np.diff(np.append(starts, n)).astype(float)
        t = t[t > 1]
        ties[:, r] = [np.sum(t * (t - 1) / 2), np.sum(t * (t - 1) * (t - 2)),
                      np.sum(t * (t - 1) * (2 * t + 5))]
    return ties[0], ties[1], ties[2]


def kendall_rows(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kendall's tau-b of ``x`` (increasing, no ties: the years) against each row of ``y``,
    and its two-sided p-value, as ``scipy.stats.kendalltau`` gives them: the asymptotic
    test with tie corrections for rows with ties, the exact test for rows without (n <= 33),
    all rows at once (one scipy call per row took ~3 ms: seconds for 2,400 descriptors)."""
    from scipy.stats import norm

    n = y.shape[1]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(y[:, j] - y[:, i]).sum(axis=1)  # concordant minus discordant
    n0 = n * (n - 1) / 2.0
    ytie, _y0, y1 = _tie_sums(y)  # y0 enters only with ties in x (none: the years)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = s / np.sqrt(n0 * (n0 - ytie))
        m = n * (n - 1.0)
        var = (m * (2 * n + 5) - y1) / 18.0
        p = 2.0 * norm.sf(np.abs(s) / np.sqrt(var))
    p = np.where(ytie == n0, np.nan, p)  # a constant row: no test
    tau = np.where(ytie == n0, np.nan, tau)
    # scipy's "auto": the exact null distribution when neither side has ties and n <= 33
    # (or the ranks are all but sorted); the same distribution for every row of length n.
    dis = np.rint((n0 - s) / 2.0).astype(np.int64)
    c = np.minimum(dis, int(n0) - dis)
    exact = (ytie == 0) & ((n <= 33) | (c <= 1))
    if exact.any():
        p[exact] = _kendall_exact_p(n, c[exact])
    return tau, p


def _kendall_exact_p(n: int, c: np.ndarray) -> np.ndarray:
    """Two-sided exact p-value of Kendall's tau without ties: twice the share of the n!
    orderings with at most ``c`` discordant pairs (Kendall 1970, p. 68; the recursion
    scipy's ``kendalltau(method="exact")`` uses, run once for the largest ``c``)."""
    if n <= 2:
        return np.ones(len(c))
    top = int(c.max())
    counts = np.zeros(top + 1)
    counts[0:2] = 1.0
    for j in range(3, n + 1):
        counts = np.cumsum(counts)
        if j <= top:
            counts[j:] -= counts[: top + 1 - j].copy()
    cum = np.cumsum(counts)
    fact = float(math.factorial(n)) if n < 171 else math.inf
    prob = 2.0 * cum[c] / fact
    prob = np.where(c == 0, 2.0 / fact, prob)
    prob = np.where(c == 1, 2.0 / math.factorial(n - 1) if n < 172 else 0.0, prob)
    prob = np.where(2 * c == n * (n - 1) // 2, 1.0, prob)
    return np.clip(prob, 0.0, 1.0)


def theil_sen_rows(x: np.ndarray, y: np.ndarray, confidence: float = 0.95
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Theil–Sen slope of each row of ``y`` against ``x`` (distinct values: the years)
    and its interval by Sen (1968), as ``scipy.stats.theilslopes`` computes them."""
    from scipy.stats import norm

    n = y.shape[1]
    i, j = np.triu_indices(n, k=1)
    slopes = np.sort((y[:, j] - y[:, i]) / (x[j] - x[i]).astype(float), axis=1)
    med = np.median(slopes, axis=1)
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = norm.ppf(alpha / 2.0)
    _, _, y1 = _tie_sums(y)
    sigma = np.sqrt((n * (n - 1) * (2 * n + 5) - y1) / 18.0)
    nt = slopes.shape[1]
    up = np.minimum(np.round((nt - z * sigma) / 2.0).astype(int), nt - 1)
    lo = np.maximum(np.round((nt + z * sigma) / 2.0).astype(int) - 1, 0)
    rows = np.arange(y.shape[0])
    return med, slopes[rows, lo], slopes[rows, up]


def era_rows(keys: list[object], wide: pd.DataFrame, totals: pd.Series, early: list[int],
             late: list[int], params: TrendParams) -> list[dict[str, object]]:
    """The era-contrast row of each key (``wide``: keys × years of counts): the rate ratio
    of shares, late era over early era, tested with ``test_poisson_2indep`` (exact
    conditional test below 20 articles in either era, else the score test, which statsmodels
    computes for all keys in one call), with the MOVER interval of the ratio
    (``confint_poisson_2indep(method="mover")``, vectorised; the score interval's numerical
    inversion took ~10 ms per key and degenerates when an era has no article)."""
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    c1 = wide.loc[:, early].sum(axis=1).to_numpy(dtype=np.int64) if early else \
        np.zeros(len(keys), dtype=np.int64)
    c2 = wide.loc[:, late].sum(axis=1).to_numpy(dtype=np.int64) if late else \
        np.zeros(len(keys), dtype=np.int64)
    t1, t2 = float(totals[early].sum()) if early else 0.0, float(totals[late].sum()) \
        if late else 0.0
    rows: list[dict[str, object]] = [
        {"key": k, "trend_method": "era-contrast", "n": int(a + b), "count_early": int(a),
         "count_late": int(b)} for k, a, b in zip(keys, c1, c2, strict=True)]
    tested = (c1 + c2 >= max(3, params.min_count // 2)) & bool(early) & bool(late)
    if not tested.any():
        return rows
    p = np.full(len(keys), np.nan)
    exact = tested & (np.minimum(c1, c2) < 20)
    score = tested & ~exact
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        if score.any():
            p[score] = np.asarray(test_poisson_2indep(
                c2[score], t2, c1[score], t1, method="score", compare="ratio").pvalue)
        for r in np.flatnonzero(exact):
            p[r] = float(test_poisson_2indep(int(c2[r]), t2, int(c1[r]), t1,
                                             method="exact-cond", compare="ratio").pvalue)
        idx = np.flatnonzero(tested)
        lo, hi = (np.asarray(v, dtype=float) for v in confint_poisson_2indep(
            c2[idx], np.full(len(idx), t2), c1[idx], np.full(len(idx), t1), method="mover",
            compare="ratio"))
        ratio = (c2[idx] / t2) / (c1[idx] / t1)
    for pos, r in enumerate(idx):
        method = "exact-cond" if exact[r] else "score"
        rows[r].update(
            trend_method=f"era-contrast ({method})",
            effect=float(ratio[pos]) - 1 if np.isfinite(ratio[pos]) else np.nan,
            ci_low=float(lo[pos]) - 1 if np.isfinite(lo[pos]) else np.nan,
            ci_high=float(hi[pos]) - 1 if np.isfinite(hi[pos]) else np.nan,
            p=float(p[r]),
        )
    return rows


def _label(r: object, params: TrendParams) -> str:
    p = getattr(r, "p", None)
    q = getattr(r, "q", None)
    method = str(getattr(r, "trend_method", ""))
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "insufficient"
    sig = q is not None and not (isinstance(q, float) and math.isnan(q)) and q < params.alpha
    effect = getattr(r, "effect", np.nan)
    if method.endswith("glm"):
        if sig and effect >= params.min_effect:
            return "emerging"
        if sig and effect <= -params.min_effect:
            return "declining"
        return "stable"
    c1, c2 = getattr(r, "count_early", 0), getattr(r, "count_late", 0)
    if sig and c1 == 0:
        return "new"
    if sig and c2 == 0:
        return "vanished"
    if sig:
        return "grew" if effect > 0 else "shrank"
    return "stable"


def year_table(counts: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """``key, year, count, total, share, partial, flagged``: every key × every year."""
    keys = counts["key"].drop_duplicates()
    grid = pd.MultiIndex.from_product([keys, flags["year"]], names=["key", "year"]).to_frame(
        index=False
    )
    out = grid.merge(counts, on=["key", "year"], how="left").fillna({"count": 0})
    cols = [c for c in ("year", "total", "partial", "sparse", "flagged") if c in flags]
    out = out.merge(flags[cols], on="year")
    out["count"] = out["count"].astype(int)
    out["share"] = out["count"] / out["total"].where(out["total"] > 0)
    return out.sort_values(["key", "year"]).reset_index(drop=True)
