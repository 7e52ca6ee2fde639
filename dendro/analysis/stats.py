"""Baseline, anomalies, forecast and disk time-to-full for the console's charts.

- **Baseline band**: for each point, two readings of the ``window`` points before it, the
  series' own recent history: its level (their median) and its trend (a robust Theil–Sen line
  through them, carried to the point), each ± k·σ̂ of the points' distances from it, with
  σ̂ = 1.4826·MAD (the median absolute deviation's consistent estimate of a normal standard
  deviation). The band spans both; a point outside it is an anomaly. The trend follows the day's
  ramp, where a median lags behind it; the level holds where the curve turns, where a line
  overshoots. Medians ignore the outliers they are meant to find, unlike means and least
  squares, and no threshold is fixed in advance. A floor on σ̂ (a share of the centre) keeps a
  perfectly flat history from flagging every tiny wobble. Only real points make a history: a gap
  (no data) is no point, a bin still filling is not judged nor used, and a point
  is judged only once :data:`MIN_BASELINE_POINTS` real points precede it in its window. The band
  never leaves the quantity's domain (a rate is never below 0, a ratio never above 100 %).
- **Counts allow chance**: the band of an event rate is widened in each bin to the counts a
  Poisson draw over the bin's seconds gives at the window's pooled rate (:func:`rate_baseline`),
  and the band of an error ratio to those a binomial draw of the bin's requests gives at the
  window's pooled ratio (:func:`ratio_baseline`): one event in a minute of a sparse log, one
  error among few requests, is chance, not an anomaly. At high counts the MAD band rules.
- **Forecast**: Holt's linear trend as an exponential-smoothing state-space model, ETS(A,A,N)
  (statsmodels' ``ETSModel``), fitted on the series, predicts the next period with a
  prediction interval (the model's own, not a hand-made band), clipped to the quantity's domain.
  The damped variant was four times slower to fit for no visible gain over a chart's horizon.
- **Disk time to full**: an ordinary least-squares line (statsmodels ``OLS``) through the used
  bytes over time; the time until it reaches the filesystem's size, with the range given by the
  95% confidence interval of the slope.
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

#: the MAD of a normal distribution is 0.6745 σ: 1.4826·MAD estimates σ
MAD_SCALE = 1.4826
DEFAULT_WINDOW = 20
DEFAULT_K = 3.0
#: bins of history the anomaly alert rules need before they judge a host (dendro.alerts.state)
MIN_HISTORY = 5
#: real points (not gaps, not partial bins) a chart's baseline needs before it judges a point
MIN_BASELINE_POINTS = 10
MIN_FORECAST_POINTS = 12
RELATIVE_FLOOR = 0.05
#: how rare a bin's count must be, under the window's Poisson or binomial, to be an anomaly: the
#: share of a normal distribution beyond 3σ on one side (as the band's k = 3)
TAIL = 0.00135


#: a quantity's domain: (lowest, highest) value it can take, None where unbounded
Domain = tuple[float | None, float | None]
#: a rate, a count, a duration: never below 0
NON_NEGATIVE: Domain = (0.0, None)


def clamp(value: float, domain: Domain) -> float:
    low, high = domain
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


@dataclass
class Baseline:
    """The band per point (None where history is too short) and the indexes outside it."""

    lower: list[float | None]
    upper: list[float | None]
    outliers: list[int]


def baseline(
    values: Sequence[float | None],
    window: int = DEFAULT_WINDOW,
    k: float = DEFAULT_K,
    *,
    domain: Domain = (None, None),
    partial: Collection[int] = (),
    min_points: int = MIN_BASELINE_POINTS,
) -> Baseline:
    """The band of each point from the real points among the ``window`` points before it: the
    union of their median ± k·1.4826·MAD and their Theil–Sen line (the median of the pairwise
    slopes, scipy's ``theilslopes``) carried to the point ± k·1.4826·MAD of their distances from it.

    On a flat history both are its median; on the day's ramp the line follows the ramp, so the
    morning rise of traffic is not an anomaly, while a spike or a step leaves both. ``partial``
    are the indexes of bins still filling (or only partly covered): they get no band, are never
    outliers and are no history. A point with fewer than ``min_points`` real points before it in
    its window (all of them, for a window that short) is not judged. The band is clamped to
    ``domain``.
    """
    from scipy.stats import theilslopes

    skip = set(partial)
    needed = min(min_points, window)
    lower: list[float | None] = []
    upper: list[float | None] = []
    outliers: list[int] = []
    for i, value in enumerate(values):
        first = max(0, i - window)
        history = [(j, v) for j, v in enumerate(values[first:i], first)
                   if j not in skip and v is not None and math.isfinite(v)]
        if i in skip or len(history) < needed:
            lower.append(None)
            upper.append(None)
            continue
        xs, ys = [float(j) for j, _ in history], [v for _, v in history]
        if max(ys) == min(ys):
            slope, intercept = 0.0, ys[0]
        else:
            slope, intercept = (float(x) for x in theilslopes(ys, xs)[:2])
        residuals = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
        level = statistics.median(ys)
        bands = [_band(intercept + slope * i, residuals, k), _band(level, [y - level for y in ys], k)]
        low = clamp(min(b[0] for b in bands), domain)
        high = clamp(max(b[1] for b in bands), domain)
        lower.append(low)
        upper.append(high)
        if value is not None and (value < low or value > high):
            outliers.append(i)
    return Baseline(lower, upper, outliers)


def _band(centre: float, distances: list[float], k: float) -> tuple[float, float]:
    """``centre`` (shifted by the distances' median) ± k·1.4826·MAD of the distances, the spread
    floored at :data:`RELATIVE_FLOOR` of the centre."""
    middle = statistics.median(distances)
    mad = statistics.median(abs(d - middle) for d in distances)
    spread = max(MAD_SCALE * mad, RELATIVE_FLOOR * abs(centre + middle), 1e-9)
    return centre + middle - k * spread, centre + middle + k * spread


Bounds = Callable[[int, list[int]], tuple[float, float]]


def _widened(values: Sequence[float | None], band: Baseline, window: int, partial: Collection[int],
             chance: Bounds) -> Baseline:
    """``band`` widened in each judged bin to ``chance(i, history)`` (the values a count drawn at
    the history's pooled rate takes with probability 1 − 2·:data:`TAIL`), outliers judged again."""
    skip = set(partial)
    outliers = []
    for i, value in enumerate(values):
        low, high = band.lower[i], band.upper[i]
        if low is None or high is None or value is None:
            continue
        history = [j for j in range(max(0, i - window), i) if j not in skip and values[j] is not None]
        least, most = chance(i, history)
        band.lower[i], band.upper[i] = min(low, least), max(high, most)
        if not min(low, least) <= value <= max(high, most):
            outliers.append(i)
    band.outliers = outliers
    return band


def ratio_baseline(
    hits: Sequence[int | None],
    totals: Sequence[int | None],
    window: int = DEFAULT_WINDOW,
    k: float = DEFAULT_K,
    *,
    partial: Collection[int] = (),
    min_points: int = MIN_BASELINE_POINTS,
) -> tuple[list[float | None], Baseline]:
    """The percentages ``hits``/``totals`` per bin and their baseline: the :func:`baseline` band,
    widened in each bin to the hit counts a binomial draw of that bin's total at the window's
    pooled ratio gives (scipy's ``binom``), so an error or two among few requests is chance, not
    an anomaly. The pooled ratio is the window's hits over its totals, with half a hit added (a
    window without errors does not make one error impossible).
    """
    from scipy.stats import binom

    values = [100.0 * h / n if n and h is not None else None for h, n in zip(hits, totals, strict=True)]
    band = baseline(values, window, k, domain=(0.0, 100.0), partial=partial, min_points=min_points)

    def chance(i: int, history: list[int]) -> tuple[float, float]:
        total = totals[i] or 0
        pooled = (sum(hits[j] or 0 for j in history) + 0.5) / (sum(totals[j] or 0 for j in history) + 1)
        return (100.0 * float(binom.ppf(TAIL, total, pooled)) / total,
                100.0 * float(binom.isf(TAIL, total, pooled)) / total)

    return values, _widened(values, band, window, partial, chance)


def rate_baseline(
    counts: Sequence[int | None],
    seconds: Sequence[float | None],
    window: int = DEFAULT_WINDOW,
    k: float = DEFAULT_K,
    *,
    partial: Collection[int] = (),
    min_points: int = MIN_BASELINE_POINTS,
) -> tuple[list[float | None], Baseline]:
    """The rates ``counts``/``seconds`` per bin (None: not measured) and their baseline: the
    :func:`baseline` band, widened in each bin to the counts a Poisson draw over that bin's
    seconds at the window's pooled rate gives (scipy's ``poisson``), so one event in a minute of a
    log that writes one every few minutes is chance, not an anomaly. The pooled rate is the
    window's events, plus half of one, over its seconds."""
    from scipy.stats import poisson

    values = [c / s if c is not None and s else None for c, s in zip(counts, seconds, strict=True)]
    band = baseline(values, window, k, domain=NON_NEGATIVE, partial=partial, min_points=min_points)

    def chance(i: int, history: list[int]) -> tuple[float, float]:
        span = seconds[i] or 1.0
        events = sum(counts[j] or 0 for j in history) + 0.5
        expected = span * events / sum(seconds[j] or 0.0 for j in history)
        return float(poisson.ppf(TAIL, expected)) / span, float(poisson.isf(TAIL, expected)) / span

    return values, _widened(values, band, window, partial, chance)


@dataclass
class Forecast:
    """Predicted values for the next ``len(mean)`` steps with their prediction interval."""

    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float  # e.g. 0.9 for a 90% interval
    method: str


def forecast(
    values: Sequence[float | None], steps: int, level: float = 0.9, domain: Domain = NON_NEGATIVE
) -> Forecast | None:
    """Holt's linear trend (ETS(A,A,N)) forecast of the next ``steps`` points (None: too little history).

    Missing points are filled by linear interpolation first (the model needs a regular series);
    predictions and bounds are clipped to ``domain`` (a rate is never negative, a ratio never
    above its whole).
    """
    series = _filled(values)
    if series is None or len(series) < MIN_FORECAST_POINTS or steps < 1:
        return None
    import numpy as np
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    data = np.asarray(series, dtype=float)
    if float(np.ptp(data)) == 0.0:  # a constant series: the model is degenerate, the answer is not
        flat = [clamp(float(data[0]), domain)] * steps
        return Forecast(flat, list(flat), list(flat), level, "constant series")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            model = ETSModel(pd.Series(data), error="add", trend="add")
            fitted = model.fit(disp=False, maxiter=200)
            frame = fitted.get_prediction(start=len(data), end=len(data) + steps - 1).summary_frame(
                alpha=1 - level
            )
        except (ValueError, np.linalg.LinAlgError):
            return None
    mean = [float(v) for v in frame["mean"]]
    lower = [float(v) for v in frame["pi_lower"]]
    upper = [float(v) for v in frame["pi_upper"]]
    if not all(math.isfinite(v) for v in (*mean, *lower, *upper)):
        return None
    mean, lower, upper = ([clamp(v, domain) for v in part] for part in (mean, lower, upper))
    return Forecast(mean, lower, upper, level, "Holt's linear trend, ETS(A,A,N), statsmodels")


def _filled(values: Sequence[float | None]) -> list[float] | None:
    """The series with gaps interpolated and leading/trailing gaps dropped."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not known:
        return None
    result: list[float] = []
    for (i, a), (j, b) in itertools.pairwise(known):
        result += [a + (b - a) * (s - i) / (j - i) for s in range(i, j)]
    result.append(known[-1][1])
    return result


@dataclass
class TimeToFull:
    """When a filesystem fills at the rate it filled over the samples."""

    used_bytes: float
    total_bytes: float
    bytes_per_second: float  # fitted slope
    seconds: float | None  # None: not filling (flat or shrinking)
    seconds_low: float | None  # fastest plausible (upper bound of the slope)
    seconds_high: float | None  # slowest plausible; None: it may not fill at all


def time_to_full(times: Sequence[float], used: Sequence[float], total: float) -> TimeToFull | None:
    """Fit used bytes against time (epoch seconds); None with fewer than three samples."""
    if len(times) < 3 or len(times) != len(used) or total <= 0:
        return None
    import numpy as np
    import statsmodels.api as sm

    x = np.asarray(times, dtype=float) - float(times[0])
    y = np.asarray(used, dtype=float)
    current = float(y[-1])
    if float(np.ptp(x)) == 0.0:
        return None
    if float(np.ptp(y)) == 0.0:
        return TimeToFull(current, total, 0.0, None, None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, sm.add_constant(x)).fit()
    slope = float(fit.params[1])
    low_slope, high_slope = (float(v) for v in fit.conf_int(alpha=0.05)[1])
    left = max(total - current, 0.0)
    if slope <= 0:
        return TimeToFull(current, total, slope, None, left / high_slope if high_slope > 0 else None, None)
    return TimeToFull(
        current,
        total,
        slope,
        left / slope,
        left / high_slope if high_slope > 0 else None,
        left / low_slope if low_slope > 0 else None,
    )
