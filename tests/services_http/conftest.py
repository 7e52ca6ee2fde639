"""Real nginx and apache2 fixtures for the HTTP service tests (started once per session)."""

from tests.servers.apache import apache_server
from tests.servers.nginx import nginx_server

__all__ = ["apache_server", "nginx_server"]
