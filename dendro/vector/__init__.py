"""Render the Vector agent config for a node, and check it on Vector's own VRL engine."""
