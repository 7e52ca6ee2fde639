"""The questions of an interactive ``dendro configure`` (questionary), giving :class:`Answers`.

Each catalog :class:`~dendro.services.base.Setting` is one follow-up question with its default
filled in (the node's own value where the setting can tell: the time zone its servers write
in); a custom application asks for its name, log path and a regex or a VRL program.
"""

from __future__ import annotations

from typing import Any

import questionary

from dendro.config import AwsBackend, ConfigError, LocalBackend
from dendro.services import catalog
from dendro.services.base import Setting, known_zone
from dendro.store import sizing
from dendro.vector.configure import Answers

CUSTOM = "custom"


class Cancelled(Exception):
    """The user pressed Ctrl-C."""


def _ask(question: Any) -> Any:
    answer = question.ask()
    if answer is None:
        raise Cancelled()
    return answer


def _setting(service: str, setting: Setting) -> Any:
    prompt = f"{service}: {setting.prompt}"
    default = setting.suggested()
    if setting.kind == "choice":
        return _ask(questionary.select(prompt, choices=list(setting.choices), default=default))
    if setting.kind == "list":
        text = _ask(questionary.text(prompt + " (comma-separated)", default=", ".join(default)))
        return [item.strip() for item in text.split(",") if item.strip()]
    if setting.kind == "int":
        text = _ask(questionary.text(prompt, default=str(default), validate=lambda t: t.strip().isdigit()))
        return int(text)
    if setting.kind == "timezone":
        return _ask(questionary.text(prompt, default=str(default), validate=_zone_answer)).strip()
    return _ask(questionary.text(prompt, default=str(default)))


def _zone_answer(text: str) -> bool | str:
    """questionary's check of a time zone answer: True, or what is wrong."""
    return known_zone(text.strip()) or "an IANA time zone name, e.g. UTC, Europe/Paris, Asia/Shanghai"


def _settings(name: str, settings: tuple[Setting, ...]) -> dict[str, Any]:
    """A service's follow-up questions; a setting that only matters for another choice is skipped."""
    answers: dict[str, Any] = {}
    for setting in settings:
        if setting.when is None or answers.get(setting.when[0]) == setting.when[1]:
            answers[setting.key] = _setting(name, setting)
    return answers


def _custom_apps() -> list[dict[str, str]]:
    apps = []
    while True:
        name = _ask(questionary.text("Application name (lowercase letters, digits, _):"))
        path = _ask(questionary.text(f"{name}: log file path:"))
        how = _ask(questionary.select(f"{name}: parse lines with", choices=["a regex", "a VRL program"]))
        if how == "a regex":
            regex = _ask(questionary.text(f"{name}: regex with named groups, e.g. (?P<level>\\w+):"))
            apps.append({"name": name, "path": path, "regex": regex})
        else:
            vrl = _ask(questionary.text(f"{name}: VRL program (it must set the fields):", multiline=True))
            apps.append({"name": name, "path": path, "vrl": vrl})
        if not _ask(questionary.confirm("Add another application?", default=False)):
            return apps


def _retention() -> int:
    """Days the local store keeps events, after showing what a day costs at the rate given."""
    rate = _ask(questionary.text("About how many events a second will all nodes send (for a disk estimate)?",
                                 default="100", validate=lambda t: _number(t) is not None))
    for line in sizing.retention_lines(LocalBackend().retention_days, {}, [float(_number(rate) or 0)])[1:]:
        questionary.print(line)
    days = _ask(questionary.text("Keep events for how many days (local.retention_days; 0: forever)?",
                                 default=str(LocalBackend().retention_days),
                                 validate=lambda t: t.strip().isdigit()))
    return int(days)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def ask() -> Answers:
    """Ask everything; raises Cancelled on Ctrl-C and ConfigError when nothing is chosen."""
    services = catalog()
    choices = [questionary.Choice(s.title, value=name) for name, s in services.items()]
    choices.append(questionary.Choice("Custom application", value=CUSTOM))
    chosen = _ask(questionary.checkbox("Which services run on this node?", choices=choices))
    if not chosen:
        raise ConfigError("nothing selected: choose at least one service")
    answers = Answers()
    for name in chosen:
        if name == CUSTOM:
            answers.custom = _custom_apps()
            continue
        answers.services[name] = _settings(name, services[name].settings)
    answers.backend = _ask(questionary.select("Backend", choices=["local", "aws"], default="local"))
    if answers.backend == "local":
        answers.ingest_url = _ask(questionary.text("Ingest URL:", default=LocalBackend().url))
        answers.retention_days = _retention()
    else:
        answers.region = _ask(questionary.text("AWS region:", default=AwsBackend().region))
        answers.pipeline = _ask(questionary.text("Pipeline name:", default="dendro"))
        answers.store = _ask(questionary.select("AWS store", choices=STORE_CHOICES, default="athena"))
    return answers


#: what each AWS store costs and needs, said where it is chosen (docs/aws.md has the figures)
STORE_CHOICES = [
    questionary.Choice(
        "athena: Parquet in S3, queried by Athena. Any account. Pay S3 storage and $5 per TB a query "
        "scans (10 MB minimum); rows queryable about a minute after they are sent; Grafana needs the "
        "Athena plugin (grafana-athena-datasource)",
        value="athena",
    ),
    questionary.Choice(
        "timestream: Timestream for LiveAnalytics. Only accounts that used it before 2025-06-20. Pay per "
        "GB written, stored and scanned; rows queryable within seconds; Grafana needs the Timestream plugin",
        value="timestream",
    ),
]
