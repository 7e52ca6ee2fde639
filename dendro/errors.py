"""Errors that more than one layer raises, kept below all of them.

:class:`ConfigError` is raised by :mod:`dendro.config` while it reads dendro.yaml and by
:mod:`dendro.services.custom` while it builds a custom application's service from it; the
catalog sits below the config (the config is made of services), so the error lives here.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """dendro.yaml is wrong; the message names the key."""
