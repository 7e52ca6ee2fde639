"""``dendro check`` runs ``vector validate --no-environment`` when a ``vector`` binary is on PATH.

No Vector binary is installed where these tests run, so a fake ``vector`` (a shell script put on
PATH) stands in: it records its arguments, the file it was given and the token it saw, then
answers as told. What it proves is Dendro's side: the command line, the file, the environment,
and that Vector's verdict decides the check. The flags are Vector's (vectordotdev/vector
src/validate.rs, v0.44.0 and v0.57.0: ``Opts`` is clap with ``rename_all = "kebab-case"``, the
bool ``no_environment`` is ``--no-environment`` and skips component and health checks, config
files are the positional ``paths``; ``validate`` returns ``exitcode::OK`` (0) when the config
validated, else ``exitcode::CONFIG`` (78)).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dendro import config as config_module
from dendro.cli import app
from dendro.vector import check, render, validate

FAKE = """#!/bin/sh
printf '%s\\n' "$@" > "{dir}/args"
cp "$3" "{dir}/seen.yaml"
printf '%s' "$DENDRO_INGEST_TOKEN" > "{dir}/token"
echo '{say}'
exit {code}
"""


def fake_vector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int = 0, say: str = "Validated"
) -> Path:
    """A ``vector`` on PATH that records what it got; returns the folder of its records."""
    bin_dir, records = tmp_path / "bin", tmp_path / "records"
    bin_dir.mkdir()
    records.mkdir()
    script = bin_dir / "vector"
    script.write_text(FAKE.format(dir=records, say=say, code=code))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return records


def _flat(output: str) -> str:
    """The CLI's table text without spaces, line breaks and cell borders (cells wrap at 80 columns)."""
    return re.sub(r"[\s│┃]", "", output)


def _config(backend: str = "local") -> config_module.Config:
    return config_module.from_dict({"backend": backend, "services": ["syslog", "host"]})


def _row(report: check.Report) -> check.Row:
    (row,) = [r for r in report.rows if r.kind == "vector"]
    return row


def test_the_rendered_config_is_validated_with_the_right_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = fake_vector(tmp_path, monkeypatch)
    monkeypatch.setenv("DENDRO_INGEST_TOKEN", "the-real-token")
    config = _config()
    row = _row(check.check(config))
    assert row.ok and not row.skipped and "Validated" in row.detail
    args = (records / "args").read_text().splitlines()
    assert args[:2] == ["validate", "--no-environment"] and len(args) == 3
    assert Path(args[2]).name == "vector.yaml"
    assert (records / "seen.yaml").read_text() == render.to_yaml(config)  # the file it would run
    assert (records / "token").read_text() == "the-real-token"
    assert not Path(args[2]).exists()  # the temporary copy is gone


def test_an_unset_token_is_replaced_by_a_placeholder_for_vector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vector interpolates ${DENDRO_INGEST_TOKEN:?…} while loading: unset, validate would fail."""
    records = fake_vector(tmp_path, monkeypatch)
    monkeypatch.delenv("DENDRO_INGEST_TOKEN", raising=False)
    row = _row(check.check(_config()))
    assert row.ok and "placeholder" in row.detail
    assert (records / "token").read_text() == validate.PLACEHOLDER_TOKEN
    assert "DENDRO_INGEST_TOKEN" not in os.environ  # only Vector's environment had it


def test_a_given_vector_yaml_is_the_file_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = fake_vector(tmp_path, monkeypatch)
    config = _config("aws")
    path = tmp_path / "vector.yaml"
    render.write(config, path)
    assert _row(check.check(config, path)).ok
    assert (records / "args").read_text().splitlines() == ["validate", "--no-environment", str(path)]


def test_vectors_refusal_fails_dendro_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = "x Transform syslog_logs_parse: unknown field `sourcee`"
    fake_vector(tmp_path, monkeypatch, code=78, say=message)
    config = _config()
    report = check.check(config)
    row = _row(report)
    assert not row.ok and not report.ok
    assert "exited with 78" in row.detail and message in row.detail
    monkeypatch.chdir(tmp_path)
    config_module.dump(config, tmp_path / "dendro.yaml")
    result = CliRunner().invoke(app, ["check", "--config", "dendro.yaml"])
    assert result.exit_code == 1, result.output
    assert "unknownfield`sourcee`" in _flat(result.output) and "1 failed" in result.output


def test_without_vector_the_check_says_it_was_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    row = _row(check.check(_config()))
    assert row.ok and row.skipped and "no vector binary" in row.detail
    monkeypatch.chdir(tmp_path)
    config_module.dump(_config(), tmp_path / "dendro.yaml")
    result = CliRunner().invoke(app, ["check", "--config", "dendro.yaml"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "novectorbinaryonPATH" in _flat(result.output)
    assert "0 failed, 1 skipped" in result.output


def test_the_header_names_the_oldest_vector() -> None:
    text = render.to_yaml(_config())
    assert f"# Needs Vector {render.MIN_VECTOR} or later" in text.splitlines()[1]
    assert render.MIN_VECTOR == "0.44.0"
