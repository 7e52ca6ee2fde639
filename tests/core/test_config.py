"""dendro.yaml: defaults, validation messages that name the key, round trip."""

from pathlib import Path

import pytest

from dendro.config import Config, ConfigError, dump, from_dict, load


def test_defaults():
    config = from_dict({"services": {"nginx": {}}})
    assert config.pipeline == "dendro" and config.database == "dendro"
    assert config.backend == "local"
    assert config.exporter.delay == 60.0
    assert config.settings("nginx")["access_log"] == ["/var/log/nginx/access.log"]
    assert "nginx_access" in config.tables() and "parse_error" in config.tables()


def test_service_list_shorthand():
    assert list(from_dict({"services": ["nginx", "postgres"]}).services) == ["nginx", "postgres"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"backend": "gcp"}, "backend: expected local or aws, got 'gcp'"),
        ({"pipeline": "Bad Name"}, "pipeline: 'Bad Name' must start with a letter"),
        ({"services": {"ftp": {}}}, "services.ftp: unknown service 'ftp'"),
        ({"services": {"nginx": {"acces_log": []}}}, "services.nginx.acces_log: unknown setting"),
        ({"services": {"nginx": {"access_log": 3}}}, "services.nginx.access_log: expected a list, got int 3"),
        ({"exporter": {"delay": "soon"}}, "exporter.delay: expected a number, got str 'soon'"),
        ({"exporter": {"interval": -1}}, "exporter.interval: must not be negative"),
        ({"exporter": {"port": True}}, "exporter.port: expected an integer, got True"),
        ({"console": {"colour": "red"}}, "console.colour: unknown key"),
        (
            {"custom": [{"name": "app", "path": "/x", "regex": "(unclosed"}]},
            "custom[0].regex: not a valid regex",
        ),
        (
            {"custom": [{"name": "app", "path": "/x", "regex": "no groups"}]},
            "custom[0].regex: needs named groups",
        ),
        ({"custom": [{"name": "app", "path": "/x"}]}, "custom[0]: give exactly one of regex"),
        ({"custom": [{"name": "App", "path": "/x", "vrl": "."}]}, "custom[0].name: 'App' must be lowercase"),
        ({"surprise": 1}, "surprise: unknown key"),
        ([1, 2], "(top level): expected a mapping"),
    ],
)
def test_errors_name_the_key(raw, message):
    with pytest.raises(ConfigError) as caught:
        from_dict(raw)
    assert str(caught.value).startswith(message)


def test_load_errors_name_the_file(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"not found \(run `dendro configure`"):
        load(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("services: [nginx\n")
    with pytest.raises(ConfigError, match="not valid YAML at line 2"):
        load(broken)
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: gcp\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: backend: expected local or aws"):
        load(bad)


def test_round_trip(tmp_path: Path):
    config = from_dict(
        {
            "pipeline": "shop",
            "backend": "aws",
            "aws": {"region": "eu-west-1", "emails": ["ops@example.com"]},
            "services": {"nginx": {"access_log": ["/srv/access.log"]}, "postgres": {}},
            "custom": [
                {"name": "billing", "path": "/var/log/billing.log", "regex": "^(?P<level>\\w+) (?P<msg>.*)$"}
            ],
        }
    )
    path = tmp_path / "dendro.yaml"
    dump(config, path)
    again = load(path)
    assert again.to_dict() == config.to_dict()
    assert isinstance(again, Config) and again.path == path.resolve()
    assert again.data_dir() == (tmp_path / ".dendro").resolve()
    assert [s.name for s in again.enabled_services()] == ["nginx", "postgres", "billing"]
