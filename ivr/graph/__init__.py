"""Drawings of a flow's plan (`ivr graph`): the questions the line asks and where callers go."""
