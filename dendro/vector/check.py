"""``dendro check``: prove a node's configuration before Vector runs it.

Checks, each one row of the report:
- the Vector topology: every ``inputs`` entry names a component or a remap's ``.dropped`` output;
- every VRL program of the Vector config compiles (on Vector's own VRL engine, vrl-python);
- ``vector validate --no-environment`` accepts the config, when a ``vector`` binary is on PATH
  (else the row says it was skipped; :mod:`dendro.vector.validate`);
- every sample of every configured service's parsers gives its expected event (or a
  parse_error, or no event at all, when it expects that);
- the user's own samples (``samples_file`` in dendro.yaml), a YAML list of::

      - service: billing          # or parser: nginx_access when a service has several
        message: "2026-11-26T12:00:00Z ERROR payment failed"
        expected: {level: error}  # optional: these fields must match; null: must not parse;
                                  # a list: one mapping per event emitted ([]: no event)

Programs run as Vector's remap runs them: one that assigns an array to the root emits one
event per element, and none for ``. = []``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dendro.config import Config, ConfigError
from dendro.services import runner, zones
from dendro.services.base import Parser, Sample, Service
from dendro.services.internal import AGENT_PARSER
from dendro.vector import render, validate

_MISSING = object()


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    kind: str  # topology | vrl | vector | timezone | sample | user sample
    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False  # did not run (counts as passed; the report shows why)
    shown: bool = False  # its detail is worth reading even when it passes (what a zone reads)


@dataclass(frozen=True)
class Report:
    rows: tuple[Row, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if not row.ok)


def topology_errors(document: Mapping[str, Any]) -> list[str]:
    """Every ``inputs`` entry that names no component (or no rerouted ``.dropped`` output)."""
    sources = document.get("sources") or {}
    transforms = document.get("transforms") or {}
    known = set(sources) | set(transforms)
    rerouting = {c for c, t in transforms.items() if t.get("type") == "remap" and t.get("reroute_dropped")}
    errors = []
    for section in ("transforms", "sinks"):
        for cid, component in (document.get(section) or {}).items():
            for name in component.get("inputs") or []:
                if name in known:
                    continue
                base, _, port = name.rpartition(".")
                if port == "dropped" and base in rerouting:
                    continue
                errors.append(f"{section}.{cid}: input {name!r} is not a component")
    return errors


def vrl_rows(document: Mapping[str, Any]) -> list[Row]:
    rows = []
    for cid, component in (document.get("transforms") or {}).items():
        if component.get("type") != "remap":
            continue
        error = runner.compile_error(render.unescape(str(component.get("source", ""))))
        rows.append(Row("vrl", cid, error is None, _first_lines(error) if error else "compiles"))
    return rows


def _first_lines(text: str, count: int = 8) -> str:
    """The head of a compiler diagnostic (it ends with links to the docs)."""
    return "\n".join([line for line in text.splitlines() if line.strip()][:count])


def diff(expected: Mapping[str, Any], got: Mapping[str, Any], subset: bool = False) -> str:
    """What differs, one ``field: expected …, got …`` per line (``subset``: only expected keys)."""
    lines = []
    keys = list(expected) if subset else sorted(set(expected) | set(got))
    for key in keys:
        want, have = expected.get(key, _MISSING), got.get(key, _MISSING)
        if want == have:
            continue
        want_text = "(absent)" if want is _MISSING else repr(want)
        have_text = "(absent)" if have is _MISSING else repr(have)
        lines.append(f"{key}: expected {want_text}, got {have_text}")
    return "\n".join(lines)


def describe(events: list[dict[str, Any]]) -> str:
    """What a program emitted, in a few words."""
    if not events:
        return "no event"
    errors = [e for e in events if e.get("type") == "parse_error"]
    if errors:
        return f"parse_error: {errors[0].get('error')}"
    text = f"parsed: {events[0]!r}" if len(events) == 1 else f"{len(events)} events: {events!r}"
    return text[:400]


def judge(expected: Any, got: list[dict[str, Any]], subset: bool = False) -> tuple[bool, str]:
    """Whether the events a program emitted are what ``expected`` asks, and the detail.

    ``expected``: None (one parse_error), a mapping (exactly one event), a list of mappings
    (one event each, in order; ``[]``: no event); ``subset``: only the expected keys count.
    """
    if expected is None:
        ok = len(got) == 1 and got[0].get("type") == "parse_error"
        return ok, "parse_error as expected" if ok else describe(got)
    wanted = list(expected) if isinstance(expected, list) else [expected]
    if len(got) != len(wanted):
        return False, f"expected {len(wanted)} event(s), got {describe(got)}"
    if not wanted:
        return True, "no event as expected"
    differences = []
    for want, have in zip(wanted, got, strict=True):
        if have.get("type") == "parse_error" and want.get("type") != "parse_error":
            return False, describe([have])
        differences.append(diff(want, have, subset=subset))
    difference = "\n".join(d for d in differences if d)
    return not difference, difference or "as expected"


def sample_row(label: str, parser: Parser, source: str, sample: Sample,
               settings: Mapping[str, Any] | None = None) -> Row:
    """A catalog sample run under its own settings (``settings``: the service's defaults under them)."""
    settings = {**(settings or {}), **sample.settings}
    got = runner.run_events(parser, sample.input_event(), source=source, settings=settings)
    ok, detail = judge([] if sample.no_event else sample.expected, got)
    return Row("sample", label, ok, detail)


def _source_of(service: Service, parser: Parser) -> str:
    for source in service.sources:
        if source.parser == parser.id:
            return f"{source.id}_parse"
    return parser.id


def catalog_sample_rows(services: list[Service]) -> list[Row]:
    rows = []
    for service in services:
        for parser in service.parsers:
            source = _source_of(service, parser)
            for i, sample in enumerate(parser.samples, 1):
                label = f"{service.name}/{parser.id} #{i}" + (f" ({sample.note})" if sample.note else "")
                rows.append(sample_row(label, parser, source, sample, service.defaults()))
    for i, sample in enumerate(AGENT_PARSER.samples, 1):
        rows.append(sample_row(f"agent/{AGENT_PARSER.id} #{i}", AGENT_PARSER, "dendro_agent_parse", sample))
    return rows


def _log_parsers(config: Config, service: Service) -> list[Parser]:
    """The parsers of the log sources this node runs (syslog: the file's or the journal's)."""
    ids = [source.parser for source in render.active_sources(config, service)]
    parsers = [service.parser(i) for i in dict.fromkeys(ids)] or list(service.parsers)
    return [p for p in parsers if not p.metrics] or parsers


def _user_parser(
    config: Config, services: list[Service], item: Mapping[str, Any], key: str
) -> tuple[Service, Parser]:
    if "parser" in item:
        for service in services:
            for parser in service.parsers:
                if parser.id == item["parser"]:
                    return service, parser
        known = ", ".join(p.id for s in services for p in s.parsers)
        wanted = item["parser"]
        raise ConfigError(f"{key}.parser: no configured service has parser {wanted!r} (known: {known})")
    name = item.get("service")
    matches = [s for s in services if s.name == name]
    if not matches:
        known = ", ".join(s.name for s in services)
        raise ConfigError(f"{key}.service: {name!r} is not configured in dendro.yaml (configured: {known})")
    service = matches[0]
    log_parsers = _log_parsers(config, service)
    if len(log_parsers) != 1:
        names = ", ".join(p.id for p in log_parsers)
        raise ConfigError(f"{key}: service {name} has several parsers ({names}); name one with parser:")
    return service, log_parsers[0]


def _valid_expected(expected: Any) -> bool:
    if isinstance(expected, list):
        return all(isinstance(event, dict) for event in expected)
    return expected is None or isinstance(expected, dict)


def load_user_samples(config: Config) -> list[dict[str, Any]]:
    """The user's samples file as a list of mappings (errors name the file and the entry)."""
    if not config.samples_file:
        return []
    base = config.path.parent if config.path else Path.cwd()
    path = base / config.samples_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"samples_file: {path} not found") from None
    except yaml.YAMLError:
        raise ConfigError(f"samples_file: {path} is not valid YAML") from None
    if not isinstance(data, list):
        raise ConfigError(f"samples_file: {path} must be a list of samples")
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not ({"service", "parser"} & set(item)):
            raise ConfigError(f"samples_file[{i}]: expected a mapping with service (or parser) and message")
        if not isinstance(item.get("message", ""), str):
            raise ConfigError(f"samples_file[{i}].message: expected a string")
        if not _valid_expected(item.get("expected")):
            raise ConfigError(
                f"samples_file[{i}].expected: expected a mapping, null (must not parse) "
                "or a list of mappings (one per event; [] for no event)"
            )
    return data


def user_sample_rows(config: Config, services: list[Service]) -> list[Row]:
    rows = []
    for i, item in enumerate(load_user_samples(config)):
        service, parser = _user_parser(config, services, item, f"samples_file[{i}]")
        event = {"message": item.get("message", ""), "host": item.get("host", "web-1")}
        settings = render.service_settings(config, service)  # this node's: its log time zone…
        got = runner.run_events(parser, event, source=_source_of(service, parser), settings=settings)
        label = f"{config.samples_file}[{i}] {parser.id}"
        if "expected" in item:
            ok, detail = judge(item["expected"], got, subset=True)
        else:  # anything but a parse_error will do
            ok = not any(e.get("type") == "parse_error" for e in got)
            detail = "parsed" if ok and got else describe(got)
        rows.append(Row("user sample", label, ok, detail))
    return rows


def timezone_rows(config: Config, services: list[Service]) -> list[Row]:
    """The log time zone of each service that has one, and the abbreviations read in it."""
    rows = []
    for service in services:
        if not any(setting.key == zones.TIMEZONE for setting in service.settings):
            continue
        zone = zones.zone_of(render.service_settings(config, service))
        name = f"services.{service.name}.{zones.TIMEZONE}"
        rows.append(Row("timezone", name, True, zones.describe(zone), shown=True))
    return rows


def load_vector(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (run `dendro configure` to write it)") from None
    except yaml.YAMLError:
        raise ConfigError(f"{path}: not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a Vector configuration")
    return data


def vector_row(config: Config, vector_path: Path | None) -> Row:
    """``vector validate --no-environment`` on the file (or a fresh render), if Vector is installed."""
    token_env = config.local.token_env if config.backend == "local" else None
    if vector_path is not None:
        outcome = validate.validate(vector_path, token_env)
    else:
        with tempfile.TemporaryDirectory(prefix="dendro-check-") as tmp:
            path = Path(tmp) / "vector.yaml"
            path.write_text(render.to_yaml(config), encoding="utf-8")
            outcome = validate.validate(path, token_env)
    ok, skipped = outcome.status != "fail", outcome.status == "skipped"
    return Row("vector", "vector validate", ok, outcome.detail, skipped)


def check(config: Config, vector_path: Path | None = None) -> Report:
    """Every check of a configuration; ``vector_path``: check that file instead of a fresh render."""
    document = load_vector(vector_path) if vector_path else render.render(config)
    rows = [Row("topology", "inputs", False, error) for error in topology_errors(document)]
    if not rows:
        rows.append(Row("topology", "inputs", True, "every input names a component"))
    rows += vrl_rows(document)
    rows.append(vector_row(config, vector_path))
    services = config.enabled_services()
    rows += timezone_rows(config, services)
    rows += catalog_sample_rows(services)
    rows += user_sample_rows(config, services)
    return Report(tuple(rows))
