"""Charts that invent no signal (issue 18, item 9), on the analysis the console's charts come from.

Measured on the demo before: the hour before any data was drawn as 0; the baseline band went
below 0 req/s and the 5xx band below 0 %; a steady rate was flagged as outliers because the
rolling median still held those zeros; the still-filling last bin was a cliff with a red dot, and
the 24 h range's first bin was partial; forecast bands left [0, 100 %]; the latency axis mixed
milliseconds and seconds. Each test builds the data that showed it and checks the rule.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dendro.analysis import charts, ranges, stats
from dendro.analysis.ranges import Range
from dendro.services import catalog, tables_of
from dendro.store.local import LocalStore

NGINX = catalog()["nginx"]
RED = NGINX.red[0]
#: a minute boundary; "now" in these tests is 20 s into the minute after an hour of bins
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _request(at: datetime, status: int = 200, duration: float = 0.05, host: str = "web-1") -> dict[str, Any]:
    return {
        "type": RED.table, "host": host, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "method": "GET", "protocol": "HTTP/1.1", "status": status, "path": "/", "bytes": 1,
        "duration": duration, "client_ip": "10.0.0.1",
    }


def _steady(start: datetime, end: datetime, per_minute: int, **kwargs: Any) -> list[dict[str, Any]]:
    events = []
    at = start
    gap = timedelta(seconds=60 / per_minute)
    while at < end:
        events.append(_request(at, **kwargs))
        at += gap
    return events


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with LocalStore(tmp_path / "d.duckdb", "dendro", tables_of([NGINX])) as opened:
        yield opened


def _red(store: Any, rng: Range) -> dict[str, dict[str, Any]]:
    return {c["id"].split("-")[-1]: c for c in charts.red_charts(store, "dendro", RED, rng)}


def _series(chart: dict[str, Any], label: str) -> list[float | None]:
    return next(s["values"] for s in chart["series"] if s["label"] == label)


def test_no_data_is_a_gap_and_a_steady_rate_has_no_outlier(store: Any) -> None:
    """Data only in the second half hour: the first half hour is a gap, not 0 req/s, and the steady
    rate after it is never an outlier (the old rolling median held the zeros: every point was)."""
    store.write(_steady(T0 + timedelta(minutes=30), T0 + timedelta(minutes=60), per_minute=120))
    rate = _red(store, Range(T0, T0 + timedelta(minutes=60), 60, "custom"))["rate"]
    total = _series(rate, "total")
    assert total[:30] == [None] * 30
    assert total[30:] == [pytest.approx(2.0)] * 30
    assert _series(rate, "2xx")[:30] == [None] * 30
    assert rate["baseline"]["outliers"] == []
    # no point is judged before its window holds enough real points
    judged = [i for i, low in enumerate(rate["baseline"]["lower"]) if low is not None]
    assert judged[0] == 30 + stats.MIN_BASELINE_POINTS


def test_an_empty_bin_inside_the_data_is_zero(store: Any) -> None:
    """Between rows the table was receiving: a quiet minute is a rate of 0, not a gap."""
    events = _steady(T0, T0 + timedelta(minutes=20), 60) + _steady(
        T0 + timedelta(minutes=21), T0 + timedelta(minutes=30), 60
    )
    store.write(events)
    total = _series(_red(store, Range(T0, T0 + timedelta(minutes=30), 60, "custom"))["rate"], "total")
    assert total[20] == 0.0 and None not in total


def test_a_table_that_stops_goes_to_zero_then_to_a_gap(store: Any) -> None:
    """After its last row a table is 0 for the lookback delta (5 min), then no data."""
    store.write(_steady(T0, T0 + timedelta(minutes=20), 60))
    total = _series(_red(store, Range(T0, T0 + timedelta(minutes=40), 60, "custom"))["rate"], "total")
    assert total[20:25] == [0.0] * 5 and total[25:] == [None] * 15


def test_the_still_filling_bin_is_partial_and_never_judged(store: Any) -> None:
    """The range ends 20 s into its last minute: that bin is a rate over its 20 s (not a cliff to a
    third), listed as partial, with no band, no outlier, and left out of the forecast's fit."""
    now = T0 + timedelta(minutes=60, seconds=20)
    store.write(_steady(T0 - timedelta(minutes=10), now, per_minute=60))
    rng = ranges.parse("1h", now=now)
    rate = _red(store, rng)["rate"]
    last = len(rate["x"]) - 1
    assert rate["x"][last] == int((T0 + timedelta(minutes=60)).timestamp())
    assert rate["partial"] == [last]
    assert _series(rate, "total")[last] == pytest.approx(1.0, rel=0.06)
    assert last not in rate["baseline"]["outliers"] and rate["baseline"]["lower"][last] is None
    assert rate["baseline"]["outliers"] == []
    assert rate["forecast"]["x"][0] == rate["x"][last - 1]  # it starts at the last whole bin


def test_a_bin_the_data_began_in_is_partial(store: Any) -> None:
    store.write(_steady(T0 + timedelta(minutes=10, seconds=20), T0 + timedelta(minutes=30), 60))
    rate = _red(store, Range(T0, T0 + timedelta(minutes=30), 60, "custom"))["rate"]
    assert rate["partial"] == [10]
    assert _series(rate, "total")[10] == pytest.approx(1.0, rel=0.06)  # 40 events over its 40 s


def test_a_range_starts_at_a_whole_bin() -> None:
    """The 24 h range's bins are 15 minutes: its first bin was cut by the start (a fake drop)."""
    now = datetime(2026, 11, 26, 12, 7, 31, tzinfo=UTC)
    for key in ranges.PRESETS:
        rng = ranges.parse(key, now=now)
        assert rng.start.timestamp() % rng.step == 0 and rng.bins()[0] == rng.start.timestamp()
        assert rng.end == now
    custom = ranges.parse("custom", "2026-11-26T10:07:31", "2026-11-26T12:00")
    assert custom.start.timestamp() % custom.step == 0


def test_bands_and_forecasts_stay_in_the_domain() -> None:
    """A rate around 1 req/s with bursts: the band's low side stopped at 0, not −65; a 5xx ratio
    near 100 %: band and forecast within [0, 100]."""
    rng = random.Random(5)
    bursty: list[float | None] = [rng.choice([0.2, 0.5, 1.0, 4.0, 9.0]) for _ in range(60)]
    band = stats.baseline(bursty, domain=stats.NON_NEGATIVE)
    assert min(v for v in band.lower if v is not None) == 0.0
    ratio: list[float | None] = [min(100.0, 80 + i * 0.5 + rng.gauss(0, 4)) for i in range(60)]
    band = stats.baseline(ratio, domain=charts.PERCENT)
    assert max(v for v in band.upper if v is not None) <= 100.0
    predicted = stats.forecast(ratio, 20, domain=charts.PERCENT)
    assert predicted is not None
    assert max(predicted.upper) <= 100.0 and min(predicted.lower) >= 0.0 and max(predicted.mean) <= 100.0
    falling: list[float | None] = [float(30 - i) for i in range(30)]
    predicted = stats.forecast(falling, 20)
    assert predicted is not None and min(predicted.lower) >= 0.0


def test_the_error_ratio_chart_is_clamped_to_percent(store: Any) -> None:
    events = []
    for minute in range(60):
        failed = random.Random(minute).choice([0, 1, 2, 5, 10])
        at = T0 + timedelta(minutes=minute)
        events += [_request(at + timedelta(seconds=s), status=500 if s < failed else 200) for s in range(10)]
    store.write(events)
    errors = _red(store, Range(T0, T0 + timedelta(minutes=60), 60, "custom"))["errors"]
    assert errors["domain"] == [0.0, 100.0]
    band = [v for v in errors["baseline"]["lower"] + errors["baseline"]["upper"] if v is not None]
    assert band and min(band) >= 0.0 and max(band) <= 100.0
    forecast = errors["forecast"]
    assert forecast and min(forecast["lower"]) >= 0.0 and max(forecast["upper"]) <= 100.0


def test_one_unit_per_axis() -> None:
    """A latency axis is all milliseconds or all seconds, chosen from the largest value."""
    assert charts.axis("s", [0.0004, 0.2, None, 0.9]) == {"unit": "ms", "factor": 1000.0}
    assert charts.axis("s", [0.0004, 0.2, 1.5]) == {"unit": "s", "factor": 1.0}
    assert charts.axis("bytes", [10.0, 3 * 1024**2]) == {"unit": "MiB", "factor": 1 / 1024**2}
    assert charts.axis("requests/s", [57.0]) == {"unit": "requests/s", "factor": 1.0}
    # an error log writing a line every few minutes: 1 event/min reads, 0.017 events/s does not
    assert charts.axis("events/s", [0.0, 1 / 60, 0.05]) == {"unit": "events/min", "factor": 60.0}
    assert charts.axis("events/s", [0.2, 3.5]) == {"unit": "events/s", "factor": 1.0}
    assert charts.axis("requests/s", [0.4]) == {"unit": "requests/s", "factor": 1.0}  # as Grafana shows


def test_a_sparse_log_is_counted_per_minute_title_and_axis(store: Any) -> None:
    store.write([_request(T0 + timedelta(minutes=m, seconds=5)) for m in range(0, 30, 3)])
    rate = _red(store, Range(T0, T0 + timedelta(minutes=30), 60, "custom"))["rate"]
    assert rate["axis"] == {"unit": "requests/s", "factor": 1.0}  # HTTP rates stay per second
    errors = [{"type": "nginx_error", "host": "web-1", "level": "error", "message": "upstream timed out",
               "timestamp": (T0 + timedelta(minutes=m, seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
              for m in range(0, 30, 4)]
    store.write(errors)
    chart = charts.service_charts(store, "dendro", NGINX, Range(T0, T0 + timedelta(minutes=30), 60, "custom"),
                                  set(store.tables()))
    events = next(c for c in chart if c["id"] == "nginx_error-events")
    assert events["axis"] == {"unit": "events/min", "factor": 60.0}
    assert events["title"] == "nginx_error: events per minute by host"


def test_every_chart_of_a_service_says_its_axis_unit(store: Any) -> None:
    events = _steady(T0, T0 + timedelta(minutes=30), 60)
    events[5]["duration"] = 1.4  # one slow request: the p99 axis reaches seconds
    store.write(events)
    drawn = charts.service_charts(
        store, "dendro", NGINX, Range(T0, T0 + timedelta(minutes=30), 60, "custom"), set(store.tables())
    )
    latency = next(c for c in drawn if c["id"].endswith("-latency"))
    assert latency["axis"]["unit"] == "s"
    assert all("axis" in c for c in drawn if "unit" in c)


def _with_errors(per_minute: int, errors: list[int]) -> list[dict[str, Any]]:
    """``per_minute`` requests in each minute, the first ``errors[minute]`` of them 5xx."""
    events = []
    for minute, failed in enumerate(errors):
        at = T0 + timedelta(minutes=minute)
        gap = 60 / per_minute
        events += [_request(at + timedelta(seconds=i * gap), status=500 if i < failed else 200)
                   for i in range(per_minute)]
    return events


def test_an_error_or_two_among_few_requests_is_chance_not_an_anomaly(store: Any) -> None:
    """The demo's nginx at 80 requests a minute with a rare 5xx: the MAD band of a mostly-zero ratio
    was 0 wide and flagged 11 single errors (1.25 %, 2.5 %) as outliers. They are what a binomial
    draw at the window's ratio gives; a burst of 12 of 80 is still an outlier."""
    minutes = [0] * 60
    for minute in (3, 11, 17, 24, 25, 31, 38, 44, 52):
        minutes[minute] = 1
    minutes[41] = 2
    minutes[55] = 12
    store.write(_with_errors(80, minutes))
    errors = _red(store, Range(T0, T0 + timedelta(minutes=60), 60, "custom"))["errors"]
    assert errors["baseline"]["outliers"] == [55]
    assert _series(errors, "errors %")[55] == pytest.approx(15.0)


def test_the_binomial_widening_does_not_hide_a_rise_in_heavy_traffic() -> None:
    """At 10,000 requests a bin the binomial spread is small: 0.1 % errors becoming 0.3 % is an
    anomaly, and the band above the steady bins stays within a few tenths of a percent."""
    rng = random.Random(7)
    totals: list[int | None] = [10_000] * 40
    hits: list[int | None] = [rng.choice([8, 9, 10, 11, 12]) for _ in range(39)] + [30]
    values, band = stats.ratio_baseline(hits, totals)
    assert band.outliers == [39] and values[39] == pytest.approx(0.3)
    assert all(u is None or u < 0.25 for u in band.upper[:39])


def test_the_ratio_band_does_not_judge_partial_bins_or_bins_without_requests() -> None:
    totals: list[int | None] = [50] * 12 + [0, None, 50]
    hits: list[int | None] = [0] * 12 + [0, None, 40]
    values, band = stats.ratio_baseline(hits, totals, partial=[14])
    assert values[12] is None and values[13] is None and values[14] == 80.0
    assert band.outliers == [] and band.upper[14] is None
    values, band = stats.ratio_baseline(hits, totals)
    assert band.outliers == [14]


def test_a_p95_of_few_durations_is_drawn_not_judged(store: Any) -> None:
    """PostgreSQL logs a few slow statements a minute: a bin's p95 is then its slowest one, and the
    MAD band flagged 7 of them on the demo. Bins of fewer than 20 timed requests are not judged
    (nor history); with 30 a minute, one slow minute still is."""
    sparse = []
    for minute in range(40):
        at = T0 + timedelta(minutes=minute)
        sparse += [_request(at + timedelta(seconds=10 * i), duration=0.1 + 0.9 * (i == minute % 6))
                   for i in range(6)]
    store.write(sparse)
    latency = _red(store, Range(T0, T0 + timedelta(minutes=40), 60, "custom"))["latency"]
    assert latency["baseline"]["outliers"] == [] and set(latency["baseline"]["upper"]) == {None}
    assert latency["unjudged_note"].startswith("40 point(s) with fewer than 20 timed requests")
    later = T0 + timedelta(hours=1)
    busy = []
    for minute in range(40):
        slow = minute == 35
        busy += [_request(later + timedelta(minutes=minute, seconds=2 * i), duration=2.0 if slow else 0.05)
                 for i in range(30)]
    store.write(busy)
    latency = _red(store, Range(later, later + timedelta(minutes=40), 60, "custom"))["latency"]
    assert latency["baseline"]["outliers"] == [35] and "unjudged_note" not in latency


def test_an_event_of_a_sparse_log_is_chance_and_a_burst_is_not(store: Any) -> None:
    """The demo's MariaDB error log writes an event every few minutes: the MAD band of a rate
    that is mostly 0 was 0 wide and flagged every one of them (20 red dots in an hour). A Poisson
    draw at the window's pooled rate gives one or two in a minute; a burst of 15 is an anomaly."""
    picker = random.Random(3)
    events = []
    for minute in range(60):
        n = 15 if minute == 50 else picker.choice([0, 0, 0, 0, 1, 1, 2])
        events += [_request(T0 + timedelta(minutes=minute, seconds=5 + 3 * i)) for i in range(n)]
    store.write(events)
    rate = _red(store, Range(T0, T0 + timedelta(minutes=60), 60, "custom"))["rate"]
    assert rate["baseline"]["outliers"] == [50]
    assert min(v for v in rate["baseline"]["lower"] if v is not None) == 0.0


def test_the_poisson_widening_does_not_hide_a_drop_in_heavy_traffic() -> None:
    """At 100 requests a second a minute holds 6,000: a drop to 80 a second is far outside chance."""
    counts: list[int | None] = [6000 + (i % 5) * 20 for i in range(30)] + [4800]
    seconds: list[float | None] = [60.0] * 31
    values, band = stats.rate_baseline(counts, seconds)
    assert band.outliers == [30] and values[30] == pytest.approx(80.0)
    assert all(low is None or low > 85 for low in band.lower[:30])  # the MAD band's 5 % floor rules


def _beats(host: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """A Vector agent's heartbeats on ``host``, one a minute (internal_metrics' scrape interval)."""
    beats, at = [], start
    while at < end:
        beats.append({"type": "agent", "host": host, "version": "0.57.0", "uptime": 1000.0,
                      "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
        at += timedelta(minutes=1)
    return beats


def test_a_server_that_stops_logging_while_its_agent_beats_falls_to_zero(store: Any) -> None:
    """nginx stops writing its access log at minute 20 (crashed, or no traffic reaches it) while the
    node's agent keeps beating: that is a rate of 0 and an anomaly, not "no data" (it was a gap
    five minutes later, which hid the outage). Without heartbeats it is still a gap."""
    store.write(_steady(T0, T0 + timedelta(minutes=20), 60))
    store.write(_beats("web-1", T0 - timedelta(minutes=5), T0 + timedelta(minutes=40, seconds=30)))
    rng = Range(T0, T0 + timedelta(minutes=40), 60, "custom")
    beats = charts.heartbeats(store, "dendro", rng, store.tables())
    beating = charts.red_charts(store, "dendro", RED, rng, beats)
    rate = next(c for c in beating if c["id"].endswith("rate"))
    total = _series(rate, "total")
    assert total[:20] == [pytest.approx(1.0)] * 20 and total[20:] == [0.0] * 20
    assert 20 in rate["baseline"]["outliers"]
    assert _series(_red(store, rng)["rate"], "total")[25:] == [None] * 15  # no heartbeats given


def test_a_quiet_error_log_of_a_beating_agent_is_zero_not_a_gap(store: Any) -> None:
    """An error log writes twice in an hour; its node's agent beats all along: the events chart is
    0 between the two, with no partial bin in the middle (it was a gap from five minutes after the
    first, and a grey "partial" bin where the second began)."""
    errors = [{"type": "nginx_error", "host": "web-1", "level": "error", "message": "upstream timed out",
               "timestamp": (T0 + timedelta(minutes=m, seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
              for m in (10, 45)]
    store.write(errors)
    store.write(_beats("web-1", T0 - timedelta(minutes=5), T0 + timedelta(minutes=60)))
    hour = Range(T0, T0 + timedelta(minutes=60), 60, "custom")
    chart = charts.events_chart(store, "dendro", "nginx_error", hour,
                                charts.heartbeats(store, "dendro", hour, store.tables()))
    (series,) = chart["series"]
    assert series["values"].count(None) == 0 and sum(v > 0 for v in series["values"]) == 2
    assert chart["partial"] == []
