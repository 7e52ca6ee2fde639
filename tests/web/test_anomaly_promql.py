"""The console's rate-anomaly z-score equals the rule's own PromQL on the same traffic.

The same two hours of requests become events in a local store (for the console) and the
exporter's request counter sampled every minute (for promtool, Prometheus's own engine). The
rule's inline expression (the form Grafana evaluates: a ``[window:5m]`` subquery) must give,
at the end of the two hours, the z-score the console shows.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dendro.alerts import promql
from dendro.alerts import state as alert_state
from dendro.alerts.model import rules
from dendro.alerts.state import LocalEvaluator
from dendro.config import from_dict
from dendro.metrics import names
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from tests.support import require_binary
from tests.web.data import stamp

pytestmark = pytest.mark.real

HOST = "web-1"
MINUTES = 120  # the rule's window: the series starts with it, so both sides see 24 bins
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # promtool's series start at time 0


def per_minute() -> list[int]:
    """Requests in each minute: 5-minute blocks of 30, 40 or 50 a minute, then a burst."""
    counts = [30 + 10 * ((m // 5) % 3) for m in range(MINUTES - 5)]
    return counts + [150] * 5


def events(counts: list[int]) -> list[dict[str, Any]]:
    """Each minute's requests strictly inside it, so no bin boundary is in doubt."""
    result = []
    for minute, count in enumerate(counts):
        for i in range(count):
            at = EPOCH + timedelta(seconds=minute * 60 + 1 + i * 58 / count)
            result.append({"type": "nginx_access", "host": HOST, "timestamp": stamp(at), "method": "GET",
                           "path": "/", "status": 200, "bytes": 1, "duration": 0.05})
    return result


def console_z(tmp_path: Path, counts: list[int]) -> float:
    config = from_dict({
        "services": {"nginx": {}},
        "local": {"data_dir": str(tmp_path), "retention_days": 0},  # its events are of 1970, as promtool's
        "alerts": {"rules": {"nginx": {"rate_anomaly": {"window": f"{MINUTES}m", "min_rate": 0.1}}}},
    })
    rule = next(r for r in rules(config) if r.name == "nginx_rate_anomaly")
    store = open_store(config, DataDir(tmp_path))
    try:
        assert not store.write(events(counts)).rejected
        state = LocalEvaluator(store, config, EPOCH + timedelta(minutes=MINUTES))(rule)
    finally:
        store.close()
    assert state.crossing == [HOST], state.detail  # above the threshold now (pending: the burst is 5m)
    return float(dict(state.values)[HOST])


def test_console_and_promql_give_the_same_zscore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alert_state, "_fmt", lambda rule, value: repr(value))  # every digit, not 4.5156
    counts = per_minute()
    expected = console_z(tmp_path, counts)
    config = from_dict({"services": {"nginx": {}},
                        "alerts": {"rules": {"nginx": {"rate_anomaly": {"window": f"{MINUTES}m"}}}}})
    rule = next(r for r in rules(config) if r.name == "nginx_rate_anomaly")
    query = promql.query(rule)
    assert query is not None
    total, counter = 0, []
    for count in [0, *counts]:  # the sample at minute k counts the requests before it
        total += count
        counter.append(total)
    series = f'{names.HTTP_REQUESTS}{{service="nginx", host="{HOST}", method="GET", code="2xx"}}'
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": series, "values": " ".join(str(v) for v in counter)}],
            "promql_expr_test": [{
                "expr": query.inline,
                "eval_time": f"{MINUTES}m",
                "exp_samples": [{"labels": f'{{host="{HOST}", service="nginx"}}', "value": expected}],
            }],
        }],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    promtool = require_binary("promtool", "prometheus")
    result = subprocess.run([promtool, "test", "rules", "tests.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected > 3  # the burst is an anomaly on both sides
