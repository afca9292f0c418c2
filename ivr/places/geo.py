"""Great-circle distances, and the nearest points to a location without measuring them all."""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence

# Mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180

# A place is only offered on its own side of the sea: mainland, Corsica, or one overseas territory.
TIMEZONES = {
    "metropole": "Europe/Paris",
    "corse": "Europe/Paris",
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}


def zone(insee: str) -> str:
    """The zone of an INSEE commune code: `metropole`, `corse`, or the overseas code (971…)."""
    if insee[:2] in ("2A", "2B"):
        return "corse"
    if insee.startswith(("97", "98", "99")):
        return insee[:3]
    return "metropole"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points given in degrees, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Nearest:
    """Points sorted by latitude; a query walks outwards from its own latitude.

    Exact: two points `d` degrees of latitude apart are at least `d × KM_PER_DEGREE` apart, so
    the walk stops once that bound exceeds the k-th best distance found.
    """

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1], i))
        self._index = order
        self._lats = [points[i][0] for i in order]
        self._lons = [points[i][1] for i in order]

    def __len__(self) -> int:
        return len(self._index)

    def query(self, lat: float, lon: float, k: int) -> list[tuple[float, int]]:
        """The k nearest points as (kilometres, index given at construction), nearest first."""
        lats, lons = self._lats, self._lons
        up = bisect.bisect_left(lats, lat)
        down = up - 1
        # A max-heap of the best k so far, as (-distance, -index) so ties keep the lower index.
        best: list[tuple[float, int]] = []
        while down >= 0 or up < len(lats):
            gap_down = lat - lats[down] if down >= 0 else math.inf
            gap_up = lats[up] - lat if up < len(lats) else math.inf
            if gap_down <= gap_up:
                position, gap = down, gap_down
                down -= 1
            else:
                position, gap = up, gap_up
                up += 1
            if len(best) == k and gap * KM_PER_DEGREE > -best[0][0]:
                break
            km = haversine_km(lat, lon, lats[position], lons[position])
            item = (-km, -self._index[position])
            if len(best) < k:
                heapq.heappush(best, item)
            elif item > best[0]:
                heapq.heapreplace(best, item)
        return sorted((-km, -index) for km, index in best)
