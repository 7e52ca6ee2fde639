"""Baseline band (a Theil–Sen line and the MAD around it), the statsmodels forecast, and disk time
to full."""

from __future__ import annotations

import math
import random

import pytest

from dendro.analysis import stats


def test_baseline_marks_the_spike_only() -> None:
    rng = random.Random(7)
    values: list[float | None] = [100 + rng.gauss(0, 3) for _ in range(80)]
    values[60] = 160.0
    values[70] = None
    band = stats.baseline(values)
    assert band.outliers == [60]
    assert band.lower[0] is None and band.lower[10] is not None
    assert band.lower[61] is not None and band.lower[61] < 100 < band.upper[61]  # type: ignore[operator]


def test_the_band_spans_the_history_s_level_and_its_trend() -> None:
    """Of 10, 12, 11, 13, 9 (window 5, k 2): the level band is their median 11 ± 2·1.4826·MAD 1; the
    trend band is the Theil–Sen line (the median of the ten pairwise slopes, (−0.25 + 0.5) / 2,
    through the medians of x and y, as scipy's theilslopes) carried to x = 5, ± 2·1.4826·MAD of the
    distances from it (−0.75, 1.125, 0, 1.875, −2.25: 1.125). The band spans both."""
    values: list[float | None] = [10.0, 12.0, 11.0, 13.0, 9.0, 11.0]
    band = stats.baseline(values, window=5, k=2)
    slope = 0.125
    line = 11.0 - slope * 2 + slope * 5
    assert band.lower[5] == pytest.approx(min(11.0 - 2 * 1.4826, line - 2 * 1.4826 * 1.125))
    assert band.upper[5] == pytest.approx(max(11.0 + 2 * 1.4826, line + 2 * 1.4826 * 1.125))


def test_the_day_s_traffic_curve_is_no_anomaly_and_a_spike_on_it_is() -> None:
    """A day in 15-minute bins (the 24 h chart) of a traffic curve with 3 % noise: a rolling median
    lags behind the morning ramp and the evening fall, and flagged 7 to 13 bins a day (13 red dots
    on the demo's apache); the band that also follows the history's trend flags at most a few
    where the curve turns, and still every spike and every step."""
    flagged = []
    for seed in range(5):
        rng = random.Random(seed)
        curve = [1.6 + 0.9 * math.sin(2 * math.pi * (i - 30) / 96) for i in range(96)]
        values: list[float | None] = [v * (1 + rng.gauss(0, 0.03)) for v in curve]
        flagged.append(len(stats.baseline(values, domain=stats.NON_NEGATIVE).outliers))
        values[60] = 2 * values[60]  # type: ignore[operator]
        assert 60 in stats.baseline(values, domain=stats.NON_NEGATIVE).outliers
    assert sum(flagged) <= 20 and min(flagged) <= 1, flagged
    rng = random.Random(11)
    step: list[float | None] = [100 + rng.gauss(0, 2) for _ in range(40)] + [50 + rng.gauss(0, 2)]
    assert stats.baseline(step).outliers == [40]


def test_forecast_follows_a_trend_with_an_interval() -> None:
    rng = random.Random(3)
    values: list[float | None] = [10 + 0.5 * i + rng.gauss(0, 0.2) for i in range(60)]
    predicted = stats.forecast(values, 10)
    assert predicted is not None and "statsmodels" in predicted.method
    assert abs(predicted.mean[-1] - (10 + 0.5 * 69)) < 2
    assert all(
        lo < m < hi for lo, m, hi in zip(predicted.lower, predicted.mean, predicted.upper, strict=True)
    )
    assert predicted.upper[-1] - predicted.lower[-1] > predicted.upper[0] - predicted.lower[0]


def test_forecast_needs_history_and_floors_rates() -> None:
    assert stats.forecast([1.0, 2.0, None], 5) is None
    falling: list[float | None] = [float(30 - i) for i in range(30)]
    predicted = stats.forecast(falling, 20)
    assert predicted is not None and min(predicted.lower) >= 0.0


def test_time_to_full_of_a_linear_fill() -> None:
    times = [0.0, 60.0, 120.0, 180.0]
    fit = stats.time_to_full(times, [100.0, 160.0, 220.0, 280.0], 1000.0)
    assert fit is not None and abs(fit.seconds - 720.0) < 1e-6  # type: ignore[operator]
    flat = stats.time_to_full(times, [5.0, 5.0, 5.0, 5.0], 10.0)
    assert flat is not None and flat.seconds is None
    assert stats.time_to_full(times[:2], [1.0, 2.0], 10.0) is None
