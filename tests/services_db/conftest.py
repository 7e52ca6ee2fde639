"""Real PostgreSQL and MariaDB fixtures for the database service tests (started once per session)."""

from tests.servers.mariadb import mariadb_server
from tests.servers.postgres import postgres_server

__all__ = ["mariadb_server", "postgres_server"]
