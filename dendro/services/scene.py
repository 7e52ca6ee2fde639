"""What the demo's story says about one node at one instant: the :class:`Scene` a demo feed reads.

``dendro up --demo`` (:mod:`dendro.ingest.demo`) tells a story: nodes that differ (traffic,
latency, errors), the day's traffic curve, and incidents (a deploy that breaks one web node, a
storm of slow statements on the database node, a filesystem filling for hours). Each service's
demo feeds (``Service.demo``) make what their server would write in the scene of their node:
more 5xx during a deploy, long statements and timeouts during a storm. A feed never sees the
story itself, only its node's scene, so the story names no service and the services name no host.

Counters only go up: a feed computes a counter from :attr:`Scene.served` (the traffic served
since the node's servers started, a monotonic integral of the load) or :attr:`Scene.spent`
(seconds spent in each incident since then), never from a random walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: a release that breaks the application on one web node: a share of its requests fail with 5xx
#: until it is rolled back a quarter of an hour later
DEPLOY = "deploy"
#: a storm of slow statements on the database node: long durations, statement timeouts, a pile-up
#: of connections, a deadlock or two
SLOW_QUERIES = "slow_queries"
#: a filesystem of the database node filling for hours (logs and WAL), until someone cleans it up
DISK_FILLING = "disk_filling"
INCIDENTS = (DEPLOY, SLOW_QUERIES, DISK_FILLING)


@dataclass(frozen=True)
class Scene:
    """One node at one instant, as its demo feeds see it."""

    #: traffic relative to an average node at an average hour (the node's size times the day's curve)
    load: float = 1.0
    #: how slowly this node answers, relative to the others (older hardware, a busier database)
    latency: float = 1.0
    #: the share of requests failing with 5xx in normal times on this node
    errors: float = 0.002
    #: the incidents under way on this node (:data:`INCIDENTS`; a storm may hit a filling disk), each
    #: with how far it has gone: 0 at its start, 1 at its end
    incidents: Mapping[str, float] = field(default_factory=dict)
    #: seconds since the node's servers started
    uptime: float = 0.0
    #: ``load`` integrated over ``uptime`` (seconds of average traffic served): counters count this
    served: float = 0.0
    #: seconds spent in each incident kind since the node's servers started
    spent: Mapping[str, float] = field(default_factory=dict)

    def during(self, incident: str) -> bool:
        return incident in self.incidents

    def progress(self, incident: str) -> float:
        """How far ``incident`` has gone (0 when it is not under way)."""
        return float(self.incidents.get(incident, 0.0))

    def counter(self, per_second: float) -> float:
        """A counter that grows ``per_second`` at average load, counted since the servers started."""
        return per_second * self.served


#: an average node on an average hour, nothing happening
QUIET = Scene(uptime=86_400.0, served=86_400.0)


def scene_of(incident: str | None, progress: float = 0.5) -> Scene:
    """:data:`QUIET` with ``incident`` under way (for samples and tests)."""
    if incident is None:
        return QUIET
    return Scene(incidents={incident: progress}, uptime=QUIET.uptime, served=QUIET.served,
                 spent={incident: 600.0})
