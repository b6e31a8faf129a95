"""Datelines: find a publish date, time and zone in a line and render it as ISO 8601.

Split of work (why not dateparser alone): a small regex *locates* the date, the time and the
zone in a line (dateparser's ``search_dates`` also fires on words like "Senin" or "may" in
ordinary sentences and cannot tell a dateline from a body sentence); **dateparser** then *parses*
the located date and time (Indonesian and English month names and abbreviations such as
``Agu``/``Agt``/``Okt``/``Des``, day names, ``10.28``, ``4:45 PM``; numeric dates are read
day-first), and the zone is applied with :mod:`datetime` from a table in
``profiles/_common.yaml`` (``WIB`` +07:00, ``WITA`` +08:00, ``WIT`` +09:00, ``GMT``/``UTC``,
``BST``, ``EDT``, ...; ``ET``/``PT`` are IANA zones via :mod:`zoneinfo`, so summer time follows
the date) or from a numeric offset (``GMT+7``, ``UTC+07:00``, ``+0700``). ISO strings go through
:meth:`datetime.fromisoformat`.

Output: ``2024-08-13T10:28:00+07:00`` with a zone; ``2024-08-13T10:28:00`` when the page shows
no zone (never guessed, unless a site profile declares the site's zone); ``2024-08-13`` when it
shows no time. Relative dates ("2 jam lalu") are not dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTH = (
    r"(?:januari|january|jan|februari|pebruari|february|feb|maret|march|mar|april|apr|mei|may|"
    r"juni|june|jun|juli|july|jul|agustus|august|agu|agt|ags|aug|september|sept|sep|oktober|"
    r"october|okt|oct|november|nopember|nov|nop|desember|december|des|dec)\.?"
)
_DAYNAME = (
    r"(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?"
)
_DATE = (
    rf"(?P<date>\d{{1,2}}\s+{_MONTH}\s*,?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\s*,?\s+\d{{4}}"
    r"|(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"|(?P<ymd>\d{4}[/.-]\d{1,2}[/.-]\d{1,2})"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})"
)
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*(?:[ap]\.?m\.?))?"
_OFFSET = r"(?:GMT|UTC)\s*[+-]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}"
_SEP = r"[\s,|•·●@\-–—/]*(?:(?:pukul|jam|pkl\.?|at|on)\s+)?"


@dataclass(frozen=True, slots=True)
class DateHit:
    """A date found in a line: its span, ISO rendering and whether it carried a time/zone."""

    start: int
    end: int
    iso: str
    has_time: bool
    has_zone: bool


@lru_cache(maxsize=8)
def _patterns(zones: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = "|".join(sorted((re.escape(z) for z in zones if z != "Z"), key=len, reverse=True))
    tz = rf"(?P<tz1>{_OFFSET}|(?-i:(?:{names})\b))"
    date_first = rf"{_DATE}(?:{_SEP}(?P<time>{_TIME})(?:\s*{tz})?)?"
    time_first = rf"(?P<time>{_TIME})(?:\s*{tz})?{_SEP}(?:{_DAYNAME}[\s,]*)?{_DATE}"
    flags = re.IGNORECASE
    return re.compile(date_first, flags), re.compile(time_first, flags)


def _offset(tz: str | None, zones: dict[str, str]) -> tzinfo | None:
    """The zone of ``tz``: a table entry (an offset, or an IANA name such as
    ``America/New_York`` for "ET", whose offset depends on the date), or a numeric offset."""
    if not tz:
        return None
    tz = tz.replace(" ", "")
    if tz in zones:
        text = zones[tz]
        if "/" in text:
            try:
                return ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                return None
    else:
        m = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?", tz, re.IGNORECASE)
        if not m:
            return None
        text = f"{m[1]}{int(m[2]):02d}:{m[3] or '00'}"
    sign = -1 if text[0] == "-" else 1
    hours, minutes = text[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


# Month names dateparser reads (with languages id and en), for the common shapes below. Not
# here, so left to dateparser: names it does not know (pebruari, ags, nop, nopember).
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "januari january jan",
            "februari february feb",
            "maret march mar",
            "april apr",
            "mei may",
            "juni june jun",
            "juli july jul",
            "agustus august agu agt aug",
            "september sept sep",
            "oktober october okt oct",
            "november nov",
            "desember december des dec",
        ),
        1,
    )
    for name in names.split()
}
_COMMON_SHAPE = re.compile(
    r"(?:(?P<d1>\d{1,2})\s+(?P<m1>[a-z]+)\.?\s*,?\s+(?P<y1>\d{4})"
    r"|(?P<m2>[a-z]+)\.?\s+(?P<d2>\d{1,2})\s*,?\s+(?P<y2>\d{4})"
    r"|(?P<d3>\d{1,2})/(?P<m3>\d{1,2})/(?P<y3>\d{4}))"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ap>[ap]m))?)?",
    re.IGNORECASE | re.ASCII,
)


def _parse_common(text: str) -> datetime | None:
    """What dateparser gives for ``text`` (as :func:`_parse` prepares it), for the shapes most
    datelines have: ``13 Agustus 2024``, ``Aug 13, 2024``, ``13/08/2024``, with an optional
    ``10:28``, ``10:28:15`` or ``4:45 pm``; None for anything else (dateparser decides). Same
    answers, without dateparser's few milliseconds a call (checked against it on every month
    name, case, shape, day and time; see benchmarks/check_dates.py)."""
    m = _COMMON_SHAPE.fullmatch(text)
    if m is None:
        return None
    day, month, year = (
        (m["d1"], m["m1"], m["y1"])
        if m["d1"]
        else ((m["d2"], m["m2"], m["y2"]) if m["d2"] else (m["d3"], m["m3"], m["y3"]))
    )
    number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
    if number is None or not 1900 <= int(year) <= 2100:
        return None
    hour, minute, second = int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)
    if m["ap"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ap"].lower() == "pm" else 0)
    try:
        return datetime(int(year), number, int(day), hour, minute, second)
    except ValueError:
        return None  # not a date (31 June, 25:00): dateparser says what it says


@lru_cache(maxsize=4096)
def _parse(date: str, time: str | None) -> datetime | None:
    if time:
        time = re.sub(
            r"^(\d{1,2})\.(\d{2})(?:\.(\d{2}))?", lambda m: ":".join(filter(None, m.groups())), time
        )
    text = f"{date} {time}" if time else date
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    text = re.sub(r"\b([ap])\.m\.?", lambda m: m[1] + "m", text, flags=re.IGNORECASE)
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}", date):
        text = re.sub(r"[.-]", "/", text, count=2)
    known = _parse_common(text)
    if known is not None:
        return known
    import dateparser  # heavy import, only for a date of another shape

    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
        "REQUIRE_PARTS": ["day", "month", "year"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    return dateparser.parse(text, languages=["id", "en"], settings=settings)


def _locate(line: str, zones: dict[str, str]) -> re.Match[str] | None:
    """The regex match of the first date (with time and zone) in ``line``."""
    date_first, time_first = _patterns(tuple(zones))
    hits = [m for m in (time_first.search(line), date_first.search(line)) if m]
    return min(hits, key=lambda h: (h.start(), -h.end())) if hits else None


def _hit(m: re.Match[str], zones: dict[str, str], default_zone: str | None) -> DateHit | None:
    if m["iso"]:
        try:
            dt = datetime.fromisoformat(m["iso"].replace("Z", "+00:00"))
        except ValueError:
            return None
        return DateHit(m.start(), m.end(), dt.isoformat(timespec="seconds"), True, bool(dt.tzinfo))
    date = m["date"]
    if m["ymd"]:  # 2024-08-13, 2024/08/13: year first, read day-first below
        year, month, day = re.split(r"[/.-]", m["ymd"])
        date = f"{day}/{month}/{year}"
    dt = _parse(date, m["time"])
    if dt is None:
        return None
    if not m["time"]:
        return DateHit(m.start(), m.end(), dt.date().isoformat(), False, False)
    zone = _offset(m["tz1"], zones) or _offset(default_zone, zones)
    if zone is not None:
        dt = dt.replace(tzinfo=zone)
    return DateHit(m.start(), m.end(), dt.isoformat(timespec="seconds"), True, bool(m["tz1"]))


def find_date(line: str, zones: dict[str, str], default_zone: str | None = None) -> DateHit | None:
    """The first absolute date in ``line`` (with its time and zone when present), or None."""
    m = _locate(line, zones)
    return _hit(m, zones, default_zone) if m else None


_DIGIT = re.compile(r"\d")  # the same \d as in _DATE
_UPDATED = re.compile(
    r"\b(updated|diperbarui|last modified|modified|last updated|update terakhir|diubah)\b", re.I
)
_FILLER = re.compile(
    rf"\b(?:{_DAYNAME}|pukul|jam|pkl|at|on|published|first published|dipublikasikan|diterbitkan|"
    r"terbit|posted|dibuat|tanggal|date|wib|wita|wit)\b|[|•·●@,\-–—:()]",
    re.IGNORECASE,
)


def parse_dateline(
    line: str, zones: dict[str, str], default_zone: str | None = None
) -> tuple[DateHit, bool] | None:
    """``(date, is_update)`` when ``line`` is a dateline: a date with at most a few other words.

    A body sentence that mentions a date ("Pada 13 Agustus 2024 ia datang.") is not a dateline:
    the line must be short, must not end a sentence, and the words left after removing the
    date, day names and filler ("Published", "pukul", separators) must be six or fewer.
    """
    if len(line) > 140 or line.rstrip()[-1:] in ".!?" or not _DIGIT.search(line):
        return None  # every date shape has a digit
    m = _locate(line, zones)
    if m is None or len(_FILLER.sub(" ", line[: m.start()] + " " + line[m.end() :]).split()) > 6:
        return None
    hit = _hit(m, zones, default_zone)
    return (hit, bool(_UPDATED.search(line[: hit.start]))) if hit else None


def parse_iso_or_text(
    value: str, zones: dict[str, str], default_zone: str | None = None
) -> str | None:
    """Normalise a publish time given as metadata (ISO 8601 or a free-text date), or None."""
    value = value.strip()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        hit = find_date(value, zones, default_zone)
        return hit.iso if hit else None
    if len(value) <= 10:
        return dt.date().isoformat()
    return dt.isoformat(timespec="seconds")
