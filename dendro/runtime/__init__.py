"""The composition root: the long-running processes assembled from the components below.

:mod:`~dendro.runtime.up` is ``dendro up`` (the store, the ingest, the exporter, the console and
the demo traffic in one process); :mod:`~dendro.runtime.datadir` names every file of the local
data dir; :mod:`~dendro.runtime.stores` opens the store a verb needs (the running ``dendro up``'s,
else the file, else Timestream); :mod:`~dendro.runtime.console` gives the console its token and
log directory; :mod:`~dendro.runtime.lifecycle` is the one loop that runs components until
Ctrl-C or SIGTERM. Nothing below this package knows any of that.
"""
