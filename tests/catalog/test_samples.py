"""Every sample of every parser of the built-in catalog, run on Vector's VRL engine (vrl-python).

One test for all integrations (it replaced a list per service family): a sample with an
expected event must give exactly that event, and the event must fit its service's table (every
field a column, the host kept); a sample expected to fail must become a parse_error event that
keeps the raw input and names the parser; a sample marked no_event must give none. A service
added to ``dendro.services.BUILTIN`` is run here without being listed anywhere.
"""

from __future__ import annotations

import pytest

from dendro.services import catalog, runner
from dendro.services.base import Parser, Sample, Service
from dendro.store.schema import table_for, to_row

PARSERS = [
    pytest.param(service, parser, id=f"{service.name}/{parser.id}")
    for service in catalog().values()
    for parser in service.parsers
]
CASES = [
    pytest.param(service, parser, sample, id=f"{parser.id}[{index}] {sample.note}")
    for service in catalog().values()
    for parser in service.parsers
    for index, sample in enumerate(parser.samples)
]


@pytest.mark.parametrize(("service", "parser"), PARSERS)
def test_every_program_compiles(service: Service, parser: Parser) -> None:
    assert runner.compile_error(parser.vrl) is None
    for sample in parser.samples:  # the programs of the settings its samples are read under
        assert runner.compile_error(parser.program({**service.defaults(), **sample.settings})) is None


@pytest.mark.parametrize(("service", "parser"), PARSERS)
def test_every_parser_proves_what_it_reads(service: Service, parser: Parser) -> None:
    assert any(s.expected is not None for s in parser.samples), parser.id
    if not parser.metrics:  # log programs also show what they refuse
        assert any(s.expects_parse_error for s in parser.samples), parser.id


@pytest.mark.parametrize(("service", "parser", "sample"), CASES)
def test_sample(service: Service, parser: Parser, sample: Sample) -> None:
    settings = {**service.defaults(), **sample.settings}
    events = runner.run_events(parser, sample.input_event(), settings=settings)
    if sample.no_event:
        assert events == []
        return
    assert len(events) == 1
    event = events[0]
    if sample.expects_parse_error:
        assert event["type"] == "parse_error"
        assert event["message"] == sample.input_event().get("message", "")
        assert event["source"] == parser.id
        assert event["error"]
        return
    assert event == dict(sample.expected or {})
    row = to_row(table_for({t.name: t for t in service.tables}, event), event)
    assert set(event) - {"type", "timestamp"} <= set(row)
    assert row["host"] == event["host"]
