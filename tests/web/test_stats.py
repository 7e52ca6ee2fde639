"""Baseline band (rolling median and MAD), the statsmodels forecast, and disk time to full."""

from __future__ import annotations

import random

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


def test_baseline_band_is_median_plus_minus_k_mad() -> None:
    values: list[float | None] = [10.0, 12.0, 11.0, 13.0, 9.0, 11.0]
    band = stats.baseline(values, window=5, k=2)
    median, mad = 11.0, 1.0  # of 10, 12, 11, 13, 9
    assert band.lower[5] == median - 2 * 1.4826 * mad and band.upper[5] == median + 2 * 1.4826 * mad


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
