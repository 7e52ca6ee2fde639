"""What every service's planning shares: the reading client layer and the plan being built.

The planner only reads: :class:`Reader` answers None for a thing that does not exist, and
every read goes through the client layer, where it is counted. :class:`Context` carries the
names, the labels of resources this plan creates (a resource created by this plan has nothing
to read yet), and the helpers that build calls and refuse to adopt a resource Dendro did not
create.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError, explain
from dendro.pipeline.models import TAG_KEY, APICall, Names, Resource

NOT_FOUND = ("ResourceNotFoundException",)


class Reader:
    """Read calls that answer None when the thing does not exist."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def get(
        self, service: str, method: str, missing: tuple[str, ...], **params: Any
    ) -> dict[str, Any] | None:
        try:
            return self.clients.call(service, method, **params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in missing or (str(status) in missing):
                return None
            raise explain(error, service, method) from None

    def read(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        try:
            return self.clients.call(service, method, **params)
        except ClientError as error:
            raise explain(error, service, method) from None


def refuse(resource: Resource) -> DeployError:
    return DeployError(
        f"{resource.label} exists but was not created by Dendro pipeline {resource.pipeline!r} "
        f"(it has no {TAG_KEY}={resource.pipeline} tag). Dendro will not change it: remove or "
        "rename it, or choose another pipeline name in dendro.yaml."
    )


@dataclass
class Context:
    """One plan in the making: how to read, the names, and what the plan creates."""

    reader: Reader
    names: Names
    created: set[str] = field(default_factory=set)  # labels of resources this plan creates

    @property
    def clients(self) -> Clients:
        return self.reader.clients

    def is_new(self, resource: Resource | None) -> bool:
        """Whether this plan creates ``resource`` (so there is nothing of it to read)."""
        return resource is not None and resource.label in self.created

    def call(self, resource: Resource, service: str, method: str, **kw: Any) -> APICall:
        description = kw.pop("description", f"{method.replace('_', ' ')} ({resource.label})")
        return APICall(service, method, description=description, **kw)

    def create(self, resource: Resource, service: str, method: str, **kw: Any) -> APICall:
        """The call that creates ``resource``; the plan then counts it as created."""
        self.created.add(resource.label)
        kw.setdefault("description", f"create {resource.label}")
        return self.call(resource, service, method, **kw)

    def check_owner(self, resource: Resource, tags: dict[str, str]) -> None:
        if tags.get(TAG_KEY) != resource.pipeline:
            raise refuse(resource)

    def check_tags(self, resource: Resource, service: str, method: str, **params: Any) -> None:
        """Read a ``Tags`` list of ``Key``/``Value`` pairs and refuse a resource not Dendro's."""
        found = self.reader.read(service, method, **params)
        self.check_owner(resource, {t["Key"]: t["Value"] for t in found.get("Tags", [])})
