"""dendro.yaml: load, validate and fill in defaults.

A bad file ends in one :class:`ConfigError` whose message names the key and says what is
wrong (``services.nginx.access_log: expected a string, got 3``); the CLI prints it and exits 1.

Shape (every key optional but ``services``)::

    pipeline: dendro            # database name; AWS resources are named after it
    backend: local              # local | aws
    local: {url: http://127.0.0.1:9880/ingest, token_env: DENDRO_INGEST_TOKEN, data_dir: .dendro,
            retention_days: 30, retention_by_table: {parse_error: 7}, memory_limit: 1GB}
    aws: {region: us-east-1, store: timestream, buffer_interval: 60, buffer_size_mb: 1, ...}
    services:
      nginx: {access_log: /var/log/nginx/access.log}
      postgres: {}
    custom:
      - {name: billing, path: /var/log/billing/app.log, regex: '^(?P<level>\\w+) (?P<message>.*)$'}
    samples_file: my-samples.yaml   # optional: your own lines for `dendro check`
    exporter: {port: 9108, interval: 15, delay: 60}
    console: {port: 3000, bind: 127.0.0.1, allowed_hosts: [dendro.example.org]}
    alerts: {...}                   # see dendro.alerts
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from dendro import services as catalog
from dendro.errors import ConfigError
from dendro.services import custom
from dendro.services.base import Service, Table

DEFAULT_PATH = Path("dendro.yaml")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
PIPELINE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass
class LocalBackend:
    url: str = "http://127.0.0.1:9880/ingest"
    token_env: str = "DENDRO_INGEST_TOKEN"
    data_dir: str = ".dendro"
    ingest_port: int = 9880
    ingest_bind: str = "0.0.0.0"  # every interface: agents on other nodes post here
    max_body_mb: int = 16
    max_connections: int = 256  # connections the ingest holds at once
    request_timeout_s: float = 30.0  # a request must arrive whole within this, from its first byte
    idle_timeout_s: float = 60.0  # a keep-alive connection with no request is closed after this
    retention_days: int = 30  # 0: keep everything
    retention_by_table: dict[str, int] = field(default_factory=dict)  # table → days, over retention_days
    memory_limit: str = "1GB"  # DuckDB's memory_limit: "512MB", "2GB", "25%"


@dataclass
class AwsBackend:
    region: str = "us-east-1"
    buffer_interval: int = 60
    buffer_size_mb: int = 1
    lambda_memory_mb: int = 512
    lambda_timeout_s: int = 300
    memory_retention_hours: int = 24
    magnetic_retention_days: int = 365
    raw_expiry_days: int = 7
    emails: list[str] = field(default_factory=list)
    store: str = "timestream"  # timestream | athena (S3 Parquet + Glue + Athena: docs/aws.md)
    athena_scan_limit_mb: int = 1024  # the workgroup's bytes-scanned cutoff per query (10 at least)
    athena_results_expiry_days: int = 7  # query results under athena-results/ expire after this
    compaction_interval_minutes: int = 60  # the athena store's small-file compaction schedule
    pyarrow_layer: str = ""  # Lambda layer with pyarrow for the athena loader; "" = AWS SDK for pandas'


@dataclass
class ExporterSettings:
    port: int = 9108
    interval: float = 15.0
    delay: float = 60.0


@dataclass
class ConsoleSettings:
    port: int = 3000
    bind: str = "127.0.0.1"
    allowed_hosts: list[str] = field(default_factory=list)  # Host names the console answers besides its bind
    max_result_mb: int = 64  # a query result is cut past this many MB (as past its row cap)


@dataclass
class CustomApp:
    name: str
    path: str
    regex: str | None = None
    vrl: str | None = None


@dataclass
class Config:
    pipeline: str = "dendro"
    backend: str = "local"
    local: LocalBackend = field(default_factory=LocalBackend)
    aws: AwsBackend = field(default_factory=AwsBackend)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom: list[CustomApp] = field(default_factory=list)
    samples_file: str | None = None
    exporter: ExporterSettings = field(default_factory=ExporterSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    alerts: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None  # where it was read from (relative paths resolve against it)

    @property
    def database(self) -> str:
        return self.pipeline

    def enabled_services(self) -> list[Service]:
        """The configured built-in services, then one service per custom application."""
        enabled = [catalog.get(name) for name in self.services]
        enabled += [custom.build(app.name, app.path, regex=app.regex, vrl=app.vrl) for app in self.custom]
        return enabled

    def settings(self, service: str) -> dict[str, Any]:
        """The service's settings, defaults filled in."""
        return {**catalog.get(service).defaults(), **self.services.get(service, {})}

    def tables(self) -> dict[str, Table]:
        return catalog.tables_of(self.enabled_services())

    def store_tables(self) -> dict[str, Table]:
        """What a store of this config holds: every built-in table (so dashboards and the
        exporter find them) plus the config's own (custom applications)."""
        return {**catalog.all_tables(), **self.tables()}

    def data_dir(self) -> Path:
        base = self.path.parent if self.path else Path.cwd()
        return (base / self.local.data_dir).resolve()

    def to_dict(self) -> dict[str, Any]:
        """The YAML-able form (what ``dendro configure`` writes)."""
        data = asdict(self)
        data.pop("path")
        data["custom"] = [{k: v for k, v in app.items() if v is not None} for app in data["custom"]]
        if data["samples_file"] is None:
            data.pop("samples_file")
        return data


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _expect(key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{key}: expected {what}, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{key}: expected {what}, got {_type_name(value)} {value!r}")
    return value


def _section(key: str, raw: Any, cls: type) -> Any:
    """A dataclass section: unknown keys and wrong types are errors, missing keys take defaults."""
    if raw is None:
        return cls()
    _expect(key, raw, dict, "a mapping")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    defaults = cls()
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(f"{key}.{name}: unknown key (known: {', '.join(known)})")
        default = getattr(defaults, name)
        if isinstance(default, bool):
            values[name] = _expect(f"{key}.{name}", value, bool, "true or false")
        elif isinstance(default, int):
            values[name] = _expect(f"{key}.{name}", value, int, "an integer")
            if values[name] < 0:
                raise ConfigError(f"{key}.{name}: must not be negative, got {value}")
        elif isinstance(default, float):
            values[name] = float(_expect(f"{key}.{name}", value, (int, float), "a number"))
            if values[name] < 0:
                raise ConfigError(f"{key}.{name}: must not be negative, got {value}")
        elif isinstance(default, dict):
            values[name] = _days_by_table(f"{key}.{name}", value)
        elif isinstance(default, list):
            _expect(f"{key}.{name}", value, list, "a list")
            values[name] = [_expect(f"{key}.{name}[{i}]", v, str, "a string") for i, v in enumerate(value)]
        else:
            values[name] = _expect(f"{key}.{name}", value, str, "a string")
    return cls(**values)


def _days_by_table(key: str, raw: Any) -> dict[str, int]:
    _expect(key, raw, dict, "a mapping of table name to days")
    for table, days in raw.items():
        _expect(f"{key}.{table}", days, int, "a number of days")
        if days < 0:
            raise ConfigError(f"{key}.{table}: must not be negative, got {days}")
    return dict(raw)


MEMORY_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(%|B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def _check_local(config: Config) -> None:
    """The local store's settings that need the catalog or a format (retention tables, memory)."""
    known = {*config.store_tables(), "rejected"}
    for table in config.local.retention_by_table:
        if table not in known:
            names = ", ".join(sorted(known))
            raise ConfigError(f"local.retention_by_table.{table}: unknown table (known: {names})")
    limit = config.local.memory_limit
    if not MEMORY_RE.match(limit):
        raise ConfigError(f"local.memory_limit: expected a size such as 512MB, 2GB or 25%, got {limit!r}")


def _services(raw: Any) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if isinstance(raw, list):  # `services: [nginx, postgres]` is accepted as a shorthand
        raw = {name: {} for name in raw}
    _expect("services", raw, dict, "a mapping of service name to settings")
    result: dict[str, dict[str, Any]] = {}
    for name, settings in raw.items():
        try:
            service = catalog.get(name)
        except KeyError as error:
            raise ConfigError(f"services.{name}: {error.args[0]}") from None
        if settings is None:
            settings = {}
        _expect(f"services.{name}", settings, dict, "a mapping of settings")
        declared = {s.key: s for s in service.settings}
        for key, value in settings.items():
            setting = declared.get(key)
            if setting is None:
                raise ConfigError(
                    f"services.{name}.{key}: unknown setting (known: {', '.join(declared) or 'none'})"
                )
            if setting.kind == "list":
                _expect(f"services.{name}.{key}", value, list, "a list")
            elif setting.kind == "int":
                _expect(f"services.{name}.{key}", value, int, "an integer")
            else:
                _expect(f"services.{name}.{key}", value, str, "a string")
        result[name] = dict(settings)
    return result


def _custom(raw: Any) -> list[CustomApp]:
    if raw is None:
        return []
    _expect("custom", raw, list, "a list of applications")
    apps = []
    for i, item in enumerate(raw):
        key = f"custom[{i}]"
        app = _section(key, item, _CustomDefaults)
        if not NAME_RE.match(app.name):
            raise ConfigError(f"{key}.name: {app.name!r} must be lowercase letters, digits and _")
        if not app.path:
            raise ConfigError(f"{key}.path: the log file path is required")
        if bool(app.regex) == bool(app.vrl):
            raise ConfigError(f"{key}: give exactly one of regex (with named groups) or vrl")
        if app.regex:
            try:
                compiled = re.compile(app.regex)
            except re.error as error:
                raise ConfigError(f"{key}.regex: not a valid regex ({error})") from None
            if not compiled.groupindex:
                raise ConfigError(f"{key}.regex: needs named groups such as (?P<level>\\w+)")
        apps.append(CustomApp(app.name, app.path, app.regex or None, app.vrl or None))
    return apps


@dataclass
class _CustomDefaults:
    name: str = ""
    path: str = ""
    regex: str = ""
    vrl: str = ""


TOP_LEVEL = {f.name for f in fields(Config)} - {"path"}


def from_dict(raw: Any, path: Path | None = None) -> Config:
    """Validate a parsed dendro.yaml."""
    if raw is None:
        raw = {}
    _expect("(top level)", raw, dict, "a mapping")
    for key in raw:
        if key not in TOP_LEVEL:
            raise ConfigError(f"{key}: unknown key (known: {', '.join(sorted(TOP_LEVEL))})")
    pipeline = _expect("pipeline", raw.get("pipeline", "dendro"), str, "a string")
    if not PIPELINE_RE.match(pipeline):
        raise ConfigError(
            f"pipeline: {pipeline!r} must start with a letter and use lowercase letters, digits"
            " and - (at most 31 characters)"
        )
    backend = raw.get("backend", "local")
    if backend not in ("local", "aws"):
        raise ConfigError(f"backend: expected local or aws, got {backend!r}")
    samples_file = raw.get("samples_file")
    if samples_file is not None:
        _expect("samples_file", samples_file, str, "a path")
    alerts = raw.get("alerts") or {}
    _expect("alerts", alerts, dict, "a mapping")
    config = Config(
        pipeline=pipeline,
        backend=backend,
        local=_section("local", raw.get("local"), LocalBackend),
        aws=_section("aws", raw.get("aws"), AwsBackend),
        services=_services(raw.get("services")),
        custom=_custom(raw.get("custom")),
        samples_file=samples_file,
        exporter=_section("exporter", raw.get("exporter"), ExporterSettings),
        console=_section("console", raw.get("console"), ConsoleSettings),
        alerts=alerts,
        path=path,
    )
    names = [s.name for s in config.enabled_services()]
    if len(names) != len(set(names)):
        raise ConfigError("custom: an application name repeats a service or another application")
    _check_local(config)
    _check_aws(config)
    return config


AWS_STORES = ("timestream", "athena")


def _check_aws(config: Config) -> None:
    """The AWS store and its limits (Athena refuses a scan cutoff below 10 MB)."""
    aws = config.aws
    if aws.store not in AWS_STORES:
        raise ConfigError(f"aws.store: expected timestream or athena, got {aws.store!r}")
    if aws.athena_scan_limit_mb < 10:
        limit = aws.athena_scan_limit_mb
        raise ConfigError(f"aws.athena_scan_limit_mb: Athena's smallest cutoff is 10 MB, got {limit}")
    if aws.athena_results_expiry_days < 1:
        raise ConfigError("aws.athena_results_expiry_days: must be at least 1")
    if not 5 <= aws.compaction_interval_minutes <= 1440:
        raise ConfigError("aws.compaction_interval_minutes: expected 5 to 1440 minutes")


def load(path: Path | str | None = None) -> Config:
    """Read and validate dendro.yaml (default: ./dendro.yaml)."""
    target = Path(path) if path else DEFAULT_PATH
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{target}: not found (run `dendro configure` to write one)") from None
    except OSError as error:
        raise ConfigError(f"{target}: cannot be read ({error.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{target}: not valid YAML{where}") from None
    try:
        return from_dict(raw, path=target.resolve())
    except ConfigError as error:
        raise ConfigError(f"{target}: {error}") from None


def dump(config: Config, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
