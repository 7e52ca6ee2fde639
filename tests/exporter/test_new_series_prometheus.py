"""A real Prometheus fires the default rules on the first burst of a host it has never seen.

Before new label sets were held at 0 (dendro/exporter/state.py), a new host's series appeared
already holding its first poll's count, and Prometheus's ``increase()``/``rate()`` count only
what a series gains between two samples of the range (prometheus/prometheus
promql/functions.go ``extrapolatedRate`` at v2.42.0, the version run here, and v3.5.0: at least
two samples, ``last - first`` plus resets): five FATAL lines from a new database host never
fired ``postgres_fatal``, and a new web host's first 5xx burst gave a 5xx ratio of 0/0 = NaN.

The rules are the default ones from the rule model (``dendro.alerts``) with ``for`` set to 0 and
1 s group intervals, so the test takes seconds; their expressions are the ones users load.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from dendro.alerts import prometheus as rule_files
from dendro.alerts.model import rules
from dendro.config import Config, from_dict
from dendro.exporter.server import start_exporter
from dendro.store.local import LocalStore
from tests.exporter.helpers import access, local_store, pg
from tests.servers.prometheus import Prometheus
from tests.support import free_port

pytestmark = pytest.mark.real

WANTED = ("postgres_fatal", "nginx_error_ratio")


def fast_rules(config: Config) -> str:
    """The default rules named in WANTED, firing without ``for``, evaluated every second."""
    chosen = [replace(r, for_s=0) for r in rules(config) if r.name in WANTED]
    assert sorted(r.name for r in chosen) == sorted(WANTED)
    groups = []
    for content in rule_files.rule_files(config.pipeline, chosen).values():
        for group in content["groups"]:
            group["interval"] = "1s"
            groups.append(group)
    return rule_files.dump({"groups": groups})


@pytest.fixture()
def watched(tmp_path: Path, prometheus: Prometheus) -> Iterator[LocalStore]:
    config = from_dict({"services": ["nginx", "postgres"]})
    store = local_store(tmp_path)
    prometheus.set_rules(fast_rules(config))
    handle = start_exporter(config, store=store, port=free_port(), interval=0.25, delay=1.0)
    prometheus.set_targets([handle.url.split("/")[2]])
    try:
        instance = handle.url.split("/")[2]
        prometheus.wait_for(f'dendro_exporter_up{{instance="{instance}"}}',
                            lambda r: bool(r) and float(r[0]["value"][1]) == 1.0)
        yield store
    finally:
        prometheus.set_targets([])
        prometheus.set_rules("groups: []\n")
        handle.stop()
        store.close()


def firing(alert: str, host: str) -> str:
    return f'ALERTS{{alertname="{alert}", alertstate="firing", host="{host}"}}'


def test_a_new_host_s_first_bursts_fire_the_fatal_and_the_5xx_ratio_alerts(
        prometheus: Prometheus, watched: LocalStore) -> None:
    now = time.time()
    burst = [pg(now, "FATAL", host_name="db-new")] * 5
    burst += [access(now, host_name="web-new", status=200)] * 10
    burst += [access(now, host_name="web-new", status=503)] * 10
    watched.write(burst)
    prometheus.wait_for(firing("postgres_fatal", "db-new"), bool, timeout=45)
    prometheus.wait_for(firing("nginx_error_ratio", "web-new"), bool, timeout=45)
    ratio = prometheus.query('service_host:dendro_http_requests_5xx:ratio_rate5m{host="web-new"}')
    assert float(ratio[0]["value"][1]) == pytest.approx(0.5)
    fatal = prometheus.query('increase(dendro_db_errors_total{host="db-new", level="fatal"}[5m])')
    assert float(fatal[0]["value"][1]) > 0
