"""Running parsers on vrl-python: events, or parse_error events that keep the raw line."""

import pytest

from dendro.services.base import Parser
from dendro.services.internal import AGENT_PARSER
from dendro.services.runner import compile_error, decode_line, run, run_events

DIGITS = Parser(id="digits", vrl=r"""
. |= parse_regex!(.message, r'^(?P<n>\d+)$')
.type = "digits"
""", samples=())


def test_a_line_that_parses_becomes_an_event():
    event = run(DIGITS, {"message": "42", "host": "h"})
    assert event == {"message": "42", "host": "h", "n": "42", "type": "digits"}


def test_a_line_that_does_not_parse_keeps_the_raw_line_and_the_reason():
    event = run(DIGITS, {"message": "forty-two", "host": "h"}, source="digits_logs")
    assert event["type"] == "parse_error"
    assert event["message"] == "forty-two"
    assert event["source"] == "digits_logs"
    assert event["host"] == "h"
    assert "could not find any pattern matches" in event["error"]


def test_compile_errors_are_reported_and_good_programs_compile():
    assert compile_error(DIGITS.vrl) is None
    error = compile_error('.x = parse_json(.message)')
    assert error is not None and "fallible" in error


def test_invalid_utf8_is_replaced_not_lost():
    line = decode_line(b"GET /\xff\xfe HTTP/1.1")
    assert line == "GET /\ufffd\ufffd HTTP/1.1"
    assert run(DIGITS, {"message": line, "host": "h"})["message"] == line


def test_agent_heartbeat_sample():
    for sample in AGENT_PARSER.samples:
        assert run(AGENT_PARSER, sample.input_event()) == sample.expected


#: an array at the root: one event per element, none for an empty array (as Vector's remap)
SPLIT = Parser(id="split", vrl=r"""
if .message == "" {
  . = []
} else {
  parts = split!(.message, ",")
  . = map_values(parts) -> |part| { if part == "raw" { part } else { {"type": "part", "part": part} } }
}
""", samples=())


def test_run_events_of_a_one_event_program_is_that_event():
    assert run_events(DIGITS, {"message": "42", "host": "h"}) == [run(DIGITS, {"message": "42", "host": "h"})]


def test_an_empty_array_at_the_root_emits_no_event():
    assert run_events(SPLIT, {"message": "", "host": "h"}) == []


def test_each_element_of_an_array_root_is_an_event_and_scalars_become_messages():
    events = run_events(SPLIT, {"message": "a,raw,b", "host": "h"})
    assert events == [{"type": "part", "part": "a"}, {"message": "raw"}, {"type": "part", "part": "b"}]


def test_run_events_of_a_failing_program_is_one_parse_error():
    events = run_events(DIGITS, {"message": "x", "host": "h"}, source="digits_logs")
    assert [(e["type"], e["message"], e["source"]) for e in events] == [("parse_error", "x", "digits_logs")]


@pytest.mark.parametrize("message", ["", "a,b"])
def test_run_refuses_a_program_that_emits_zero_or_several_events(message):
    with pytest.raises(ValueError, match="use run_events"):
        run(SPLIT, {"message": message, "host": "h"})
