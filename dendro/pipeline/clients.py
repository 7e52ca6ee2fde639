"""The one boto3 client layer of the deployer: every AWS call of deploy, list and teardown.

Every client honours ``AWS_ENDPOINT_URL`` (so the same commands run against moto's server),
and Timestream clients always get ``endpoint_url`` explicitly when it is set, because they
otherwise try endpoint discovery. :meth:`Clients.call` is the single place a request leaves,
which is where the calls are counted and where tests inject faults (``before_call``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config as BotoConfig

#: called before every request with (service, method, params); raising stops the request
BeforeCall = Callable[[str, str, dict[str, Any]], None]

_BOTO_CONFIG = BotoConfig(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=60
)


def endpoint_url() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL") or None


_LOADER: Any = None


@contextmanager
def botocore_quiet() -> Iterator[None]:
    """botocore logs whole responses at DEBUG: around a call that returns a secret, it must not."""
    logger = logging.getLogger("botocore")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(saved)


def new_session() -> boto3.session.Session:
    """A fresh session (credentials are looked up anew) sharing one loader of service models,
    which is what makes creating clients slow."""
    global _LOADER
    core = botocore.session.get_session()
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core)


@dataclass
class Clients:
    region: str
    session: Any = None  # a boto3.Session; the default one when None
    before_call: BeforeCall | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)
    _cache: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._cache:
            if self.session is None:
                self.session = new_session()
            session = self.session
            kwargs: dict[str, Any] = {"region_name": self.region, "config": _BOTO_CONFIG}
            url = endpoint_url()
            if url:
                kwargs["endpoint_url"] = url
            self._cache[service] = session.client(service, **kwargs)
        return self._cache[service]

    def sharing(self, before_call: BeforeCall | None = None) -> Clients:
        """Another layer over the same session and clients (creating clients is slow), with its
        own call count and hook."""
        other = Clients(self.region, self.session, before_call)
        other._cache = self._cache
        return other

    def call(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        """Make one request and return its response."""
        if self.before_call is not None:
            self.before_call(service, method, params)
        self.calls.append((service, method))
        response: dict[str, Any] = getattr(self.client(service), method)(**params)
        return response

    def pages(self, service: str, method: str, key: str, **params: Any) -> list[Any]:
        """Every item under ``key`` of every page, each page one counted call."""
        items: list[Any] = []
        token_in, token_out = _PAGINATION.get((service, method), ("NextToken", "NextToken"))
        while True:
            page = self.call(service, method, **params)
            items.extend(page.get(key, []))
            token = page.get(token_out)
            if not token:
                return items
            params = {**params, token_in: token}


#: (request token name, response token name) where they differ from NextToken
_PAGINATION: dict[tuple[str, str], tuple[str, str]] = {
    ("iam", "list_role_policies"): ("Marker", "Marker"),
    ("iam", "list_attached_role_policies"): ("Marker", "Marker"),
    ("iam", "list_attached_user_policies"): ("Marker", "Marker"),
    ("iam", "list_access_keys"): ("Marker", "Marker"),
    ("iam", "list_policy_versions"): ("Marker", "Marker"),
    ("iam", "list_entities_for_policy"): ("Marker", "Marker"),
    ("lambda", "list_functions"): ("Marker", "NextMarker"),
}
