"""AWS pipeline benchmark: API calls and wall time of deploy and teardown against moto's server.

Run: ``.venv/bin/python benchmarks/bench_deploy.py [--runs N]``. Starts moto's server on a free
loopback port (dummy credentials, ``AWS_ENDPOINT_URL``), then for each run: a fresh deploy, a
no-change deploy and a teardown of a pipeline with nginx and postgres (tables, metric filters
and alarms included). Prints the API calls of each and the median wall times, then the ratio
of a no-change deploy's calls to a fresh deploy's calls last (figures in benchmarks/README.md,
section AWS pipeline). moto answers at once, so the times are Dendro's own work plus HTTP to
moto; on AWS, IAM propagation and Firehose creation add tens of seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dendro import config as config_module
from dendro.pipeline import deployer
from dendro.pipeline.clients import Clients

CONFIG = "pipeline: bench\nservices: [nginx, postgres]\naws: {emails: [ops@example.com]}\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "dendro.yaml"
            path.write_text(CONFIG, encoding="utf-8")
            config = config_module.load(path)
            base = Clients(config.aws.region)
            times: dict[str, list[float]] = {"fresh": [], "no-change": [], "teardown": []}
            calls: dict[str, int] = {}
            for _ in range(args.runs):
                for kind in ("fresh", "no-change"):
                    clients = base.sharing()
                    started = time.perf_counter()
                    report = deployer.deploy(config, clients)
                    times[kind].append(time.perf_counter() - started)
                    calls[kind] = len(clients.calls)
                    assert report.plan.empty == (kind == "no-change")
                clients = base.sharing()
                started = time.perf_counter()
                inventory, plan = deployer.plan_removal(config, clients)
                left = deployer.teardown(config, clients, inventory, plan).left
                times["teardown"].append(time.perf_counter() - started)
                calls["teardown"] = len(clients.calls)
                assert not left.owned
    finally:
        server.stop()
    for kind in ("fresh", "no-change", "teardown"):
        label = f"{kind} deploy" if kind != "teardown" else "teardown"
        print(
            f"{label:18} {calls[kind]:4d} API calls  median {statistics.median(times[kind]) * 1000:7.0f} ms"
        )
    print(f"no-change/fresh API calls: {calls['no-change'] / calls['fresh']:.2f}")


if __name__ == "__main__":
    main()
