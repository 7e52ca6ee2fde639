"""``dendro configure``: turn answers (from flags or the wizard) into dendro.yaml and vector.yaml.

:class:`Answers` holds what the user chose; :func:`build_config` merges it into an existing
dendro.yaml (so alerts, exporter and per-service settings written earlier are kept) and
validates the result with dendro.config; :func:`write` writes both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dendro import config as config_module
from dendro.config import Config, ConfigError
from dendro.services import BUILTIN, catalog
from dendro.services.base import Service
from dendro.vector import render


def service_aliases() -> dict[str, str]:
    """What ``--service`` accepts besides the catalog names (``Service.aliases``): alias → name."""
    return {alias: name for name, service in catalog().items() for alias in service.aliases}


@dataclass
class Answers:
    backend: str = "local"
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom: list[dict[str, str]] = field(default_factory=list)
    pipeline: str | None = None
    region: str | None = None
    ingest_url: str | None = None
    retention_days: int | None = None  # local.retention_days (the wizard asks; flags keep the file's)
    store: str | None = None  # aws.store: timestream | athena


def service_name(name: str) -> str:
    """The catalog name of a ``--service`` value; ConfigError names the known ones."""
    canonical = service_aliases().get(name.strip().lower(), name.strip().lower())
    if canonical not in BUILTIN:
        known = ", ".join(BUILTIN)
        raise ConfigError(f"--service {name}: unknown service (known: {known}; custom apps: --custom)")
    return canonical


def parse_custom(spec: str) -> dict[str, str]:
    """``NAME:PATH:REGEX`` (the regex may contain colons) as a custom application entry."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"--custom {spec!r}: expected NAME:PATH:REGEX")
    name, path, regex = parts
    return {"name": name, "path": path, "regex": regex}


def _existing(path: Path) -> dict[str, Any]:
    """The current dendro.yaml as raw data (an unreadable one is replaced, not merged)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _detected(service: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` plus those this node decides when nobody set them (syslog from the journal when
    no syslog file exists, the node's time zone), written into dendro.yaml so the choice shows and
    stays; a setting that only matters for another choice (``Setting.when``) is left out."""
    result = dict(settings)
    for setting in catalog()[service].settings:
        if setting.when is not None and result.get(setting.when[0]) != setting.when[1]:
            continue
        if setting.detect is not None and setting.key not in result:
            result[setting.key] = setting.suggested(result)
    return result


def build_config(answers: Answers, config_path: Path) -> Config:
    """The validated Config of these answers, merged into the existing file at ``config_path``."""
    raw = _existing(config_path)
    old_services = _mapping(raw.get("services"))
    services = {}
    for name, settings in answers.services.items():
        services[name] = _detected(name, {**_mapping(old_services.get(name)), **settings})
    raw["services"] = services
    raw["custom"] = answers.custom
    raw["backend"] = answers.backend
    if answers.pipeline:
        raw["pipeline"] = answers.pipeline
    if answers.region:
        raw["aws"] = {**_mapping(raw.get("aws")), "region": answers.region}
    if answers.store:
        raw["aws"] = {**_mapping(raw.get("aws")), "store": answers.store}
    if answers.ingest_url:
        raw["local"] = {**_mapping(raw.get("local")), "url": answers.ingest_url}
    if answers.retention_days is not None:
        raw["local"] = {**_mapping(raw.get("local")), "retention_days": answers.retention_days}
    if not raw["custom"]:
        raw.pop("custom")
    return config_module.from_dict(raw, path=config_path.resolve())


def write(config: Config, config_path: Path, vector_path: Path) -> None:
    config_module.dump(config, config_path)
    render.write(config, vector_path)


def server_notes(config: Config) -> list[Service]:
    """The configured services that need a change in the server's own config."""
    return [service for service in config.enabled_services() if service.server_config]
