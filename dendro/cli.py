"""The ``dendro`` command line: a typer app assembled from each component's commands.

Each component keeps its verbs in its own ``commands.py`` with a ``register(app)`` function;
this module only assembles them, so the CLI stays thin: parse, call one function, render.
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "dendro.vector.commands",  # configure, check
    "dendro.exporter.commands",  # exporter
    "dendro.pipeline.commands",  # deploy, list, teardown (AWS)
    "dendro.ingest.commands",  # up, ingest, query (local backend)
    "dendro.alerts.commands",  # alerts render, alerts list
    "dendro.grafana.commands",  # grafana build
    "dendro.web.commands",  # start server (web console)
)

app = typer.Typer(
    name="dendro",
    help="Dendro: every node's logs and metrics in one store, RED dashboards, alerts and a console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
