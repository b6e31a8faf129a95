"""The zone of a publish time shown without one, and where it came from.

A clock shown without a zone gets the site profile's zone (``published_tz_source =
"profile"``), else the zone of ``data/zones.yaml`` for the url's host (``"inferred:host"``) or
the article's language (``"inferred:language"``); a zone on the page is ``"page"``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

if TYPE_CHECKING:
    from toolkit.clean.textmeta import Cand

__all__ = ["infer_zone", "with_zone", "zone_table", "zoned"]


@lru_cache(maxsize=1)
def zone_table() -> tuple[dict[str, str], dict[str, str]]:
    """(host suffix → IANA zone, language → IANA zone) of ``data/zones.yaml``."""
    path = resources.files("toolkit.clean").joinpath("data", "zones.yaml")
    data = yaml.safe_load(path.read_text("utf-8"))
    return dict(data.get("hosts") or {}), dict(data.get("languages") or {})


def infer_zone(host: str | None, language: str | None) -> str | None:
    """The IANA zone of a site from its host (the longest matching suffix), else from the
    article's language; None when neither says (an English page could be anywhere)."""
    hosts, languages = zone_table()
    if host:
        labels = host.lower().split(".")
        for k in range(len(labels)):
            if (suffix := ".".join(labels[k:])) in hosts:
                return hosts[suffix]
    return languages.get(language or "")


def with_zone(iso: str, zone: str) -> str | None:
    """``iso`` (a local time without offset) read in ``zone`` (IANA name or ``+07:00``)."""
    try:
        local = datetime.fromisoformat(iso)
        tz = (
            ZoneInfo(zone)
            if "/" in zone
            else datetime.fromisoformat(f"2000-01-01T00:00{zone}").tzinfo
        )
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return local.replace(tzinfo=tz).isoformat(timespec="seconds")


def zoned(
    cand: Cand | None, zone: str | None, host: str | None, language: str | None
) -> tuple[str | None, str | None]:
    """(published_at, published_tz_source) of a chosen dateline: ``page`` when the page shows
    the zone, ``profile`` when the site profile's zone was applied, ``inferred:host`` or
    ``inferred:language`` (``data/zones.yaml``), None without a clock or a zone."""
    if cand is None or cand.hit is None:
        return None, None
    if not cand.hit.has_time:
        return cand.value, None
    if cand.hit.has_zone:
        return cand.value, "page"
    if zone:
        return cand.value, "profile"
    by_host = infer_zone(host, None)
    inferred = by_host or infer_zone(None, language)
    if inferred and (value := with_zone(cand.value, inferred)):
        return value, f"inferred:{'host' if by_host else 'language'}"
    return cand.value, None
