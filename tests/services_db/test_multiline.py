"""Records cut from lines as Vector's multiline aggregator cuts them, mode by mode."""

from __future__ import annotations

from dendro.services.base import Multiline
from dendro.services.multiline import records
from dendro.services.mysql import SLOW_MULTILINE
from dendro.services.postgres import POSTGRES_MULTILINE


def test_no_rule_keeps_every_line() -> None:
    assert list(records(["a\n", "b\n"], None)) == ["a", "b"]


def test_halt_before() -> None:
    rule = Multiline(start_pattern="", condition_pattern="^(INFO|ERROR) ", mode="halt_before")
    lines = ["INFO a", "INFO b", "INFO c", "second", "last", "ERROR d", "ERROR e", "tail"]
    expected = ["INFO a", "INFO b", "INFO c\nsecond\nlast", "ERROR d", "ERROR e\ntail"]
    assert list(records(lines, rule)) == expected


def test_continue_through() -> None:
    rule = Multiline(start_pattern=r"^[^\s]", condition_pattern=r"^[\s]+", mode="continue_through")
    lines = ["usual", "first", " second", " last", "another", "finishing", " tail"]
    assert list(records(lines, rule)) == ["usual", "first\n second\n last", "another", "finishing\n tail"]


def test_continue_past() -> None:
    rule = Multiline(start_pattern=r"\\$", condition_pattern=r"\\$", mode="continue_past")
    lines = ["usual", "first \\", "second \\", "last", "another"]
    assert list(records(lines, rule)) == ["usual", "first \\\nsecond \\\nlast", "another"]


def test_halt_with() -> None:
    rule = Multiline(start_pattern=r"^BEGIN", condition_pattern=r"^END", mode="halt_with")
    lines = ["x", "BEGIN", "a", "END", "y"]
    assert list(records(lines, rule)) == ["x", "BEGIN\na\nEND", "y"]


def test_lines_before_the_first_record_stand_alone() -> None:
    lines = ["\tcontinued", "2026-11-26 12:00:00 UTC [1] LOG:  a", "\tb"]
    expected = ["\tcontinued", "2026-11-26 12:00:00 UTC [1] LOG:  a\n\tb"]
    assert list(records(lines, POSTGRES_MULTILINE)) == expected


def test_mysql_slow_log_records() -> None:
    lines = [
        "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log (Debian 12). started with:",
        "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock",
        "Time\t\t    Id Command\tArgument",
        "# Time: 261127  0:02:13",
        "# User@Host: root[root] @ localhost []",
        "# Query_time: 0.3  Lock_time: 0.0  Rows_sent: 1  Rows_examined: 0",
        "SET timestamp=1795737733;",
        "SELECT 1,",
        "2;",
        "# User@Host: root[root] @ localhost []",
        "# Query_time: 0.3  Lock_time: 0.0  Rows_sent: 1  Rows_examined: 0",
        "SET timestamp=1795737733;",
        "SELECT 3;",
        "# Time: 2026-11-27T00:02:14.000000Z",
        "# User@Host: root[root] @ localhost []  Id:     8",
        "# Query_time: 0.3  Lock_time: 0.0  Rows_sent: 1  Rows_examined: 0",
        "SET timestamp=1795737734;",
        "SELECT 4;",
        "# User@Host: root[root] @ localhost []  Id:     9",  # MySQL 5.6: same second, no # Time:
        "# Query_time: 0.5  Lock_time: 0.0  Rows_sent: 1  Rows_examined: 0",
        "SET timestamp=1795737734;",
        "SELECT 5;",
    ]
    assert list(records(lines, SLOW_MULTILINE)) == [
        "\n".join(lines[0:3]),
        lines[3],
        "\n".join(lines[4:9]),
        "\n".join(lines[9:13]),
        lines[13],
        "\n".join(lines[14:18]),
        "\n".join(lines[18:22]),
    ]
