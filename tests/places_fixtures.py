"""Shared helpers for the places tests: the shipped data, the catalogue, a fixed clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.config import ROOT
from ivr.places.service import Places, load_places
from ivr.prompts import Catalog, load_catalog

PROMPTS = ROOT / "prompts" / "fr"
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"
FRANCE_SERVICES_CSV = SHARED / "france-services-2024-08-01.csv"
POSTCODES_CSV = SHARED / "laposte-codes-postaux.csv"
PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    """A moment in mainland France time: '2026-11-30 10:00' (a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def catalog() -> Catalog:
    return load_catalog(PROMPTS)


def places() -> Places:
    return load_places(DATA, catalog(), PROMPTS)
