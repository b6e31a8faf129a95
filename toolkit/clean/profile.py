"""Site profiles and the chrome vocabulary, loaded from YAML data files.

``profiles/_common.yaml`` holds the vocabulary used for every page; each other
``profiles/<site>.yaml`` describes one site and *adds* to it for that site's pages::

    source: kompas                 # the `source` value of the site's articles
    hosts: [kompas.com]            # a record whose url is on one of these hosts uses the profile
    signatures:                    # regexes (case-sensitive, multi-line) that identify a page
      - '^(?:[A-Z][A-Za-z ]+, )?KOMPAS\\.com\\s*-'
    timezone: "+07:00"             # only for datelines that show a time but no zone
    lines: {promo: {patterns: [...]}, marker: {exact: [...]}}   # as in _common.yaml
    bylines: {author: ['^(?P<name>...) - detik\\w+$']}
    end_headings: [...]            # extra section headings that close the body
    credit_patterns: [...]         # extra credit lines (close the body)
    glued_markers: [...]
    blocks: [{reason: promo, start: '...', end: '...', max_lines: 6}]

Extra profile directories (``CleanOptions.profile_dirs``) are read after the packaged ones; a
profile with the same ``source`` replaces the packaged one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from toolkit.clean.screen import FirstMatch, fold, needles, possible
from toolkit.errors import InputError

_TRIM = " \t·•|:;,.!?-–—»«>›‹<*_\"'“”‘’()[]"


def line_key(line: str) -> str:
    """A line as compared with ``exact`` vocabularies: casefolded, trimmed, spaces collapsed."""
    return " ".join(line.casefold().strip(_TRIM).split())


@dataclass(frozen=True, slots=True)
class Block:
    """A range of lines removed whole: from a ``start`` line to an ``end`` line."""

    reason: str
    start: re.Pattern[str]
    end: re.Pattern[str]
    max_lines: int


@dataclass(slots=True)
class Vocabulary:
    """Everything the line classifier matches, already compiled."""

    exact: dict[str, str] = field(default_factory=dict)
    patterns: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)  # one per reason
    _sources: dict[str, list[str]] = field(default_factory=dict)
    related_prefixes: list[str] = field(default_factory=list)
    glued_markers: list[str] = field(default_factory=list)
    end_headings: set[str] = field(default_factory=set)
    credit: list[re.Pattern[str]] = field(default_factory=list)
    bylines: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    byline_labels: set[str] = field(default_factory=set)
    blocks: list[Block] = field(default_factory=list)
    timezones: dict[str, str] = field(default_factory=dict)
    # the same searches, skipping patterns whose needed text a line lacks (toolkit.clean.screen)
    reasons: FirstMatch = field(default_factory=lambda: FirstMatch([]))  # patterns
    credits: FirstMatch = field(default_factory=lambda: FirstMatch([]))  # credit
    memo: dict = field(default_factory=dict)  # line classifications (toolkit.clean.lines)

    def add(self, data: dict[str, Any], where: str) -> None:
        """Merge one YAML document (``_common.yaml`` or a profile) into this vocabulary."""
        try:
            for reason, spec in (data.get("lines") or {}).items():
                for item in spec.get("exact") or ():
                    self.exact.setdefault(line_key(str(item)), reason)
                for pattern in spec.get("patterns") or ():
                    re.compile(pattern)  # report a bad pattern with its own message
                    self._sources.setdefault(reason, []).append(f"(?:{pattern})")
            self.related_prefixes += [p.casefold() for p in data.get("related_prefixes") or ()]
            self.glued_markers += list(data.get("glued_markers") or ())
            self.end_headings |= {line_key(h) for h in data.get("end_headings") or ()}
            self.credit += [re.compile(p, re.I) for p in data.get("credit_patterns") or ()]
            for role, patterns in (data.get("bylines") or {}).items():
                self.bylines += [(role, re.compile(p, re.IGNORECASE)) for p in patterns]
            self.byline_labels |= {line_key(x) for x in data.get("byline_labels") or ()}
            for b in data.get("blocks") or ():
                start, end = re.compile(b["start"], re.I), re.compile(b["end"], re.I)
                self.blocks.append(Block(b["reason"], start, end, int(b.get("max_lines", 8))))
            self.timezones.update(data.get("timezones") or {})
        except (re.error, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InputError(f"{where}: invalid profile entry ({exc}); fix the YAML file") from exc
        self.memo.clear()
        self.glued_markers.sort(key=len, reverse=True)
        self.patterns = [
            (reason, re.compile("|".join(sources), re.IGNORECASE))
            for reason, sources in self._sources.items()
        ]
        self.reasons = FirstMatch(list(self._sources.items()), re.IGNORECASE)
        self.credits = FirstMatch([("credit", [p.pattern]) for p in self.credit], re.IGNORECASE)


@dataclass(slots=True)
class Profile:
    """One site: how to recognise its pages and the vocabulary to use on them."""

    source: str
    hosts: tuple[str, ...]
    signatures: tuple[re.Pattern[str], ...]
    timezone: str | None
    vocab: Vocabulary
    needles: tuple[tuple[tuple[str, ...], ...], ...] = ()  # per signature, see screen.needles

    def matches_host(self, host: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in self.hosts)


@dataclass(slots=True)
class Profiles:
    """The common vocabulary plus every site profile."""

    common: Vocabulary
    sites: list[Profile]

    def match(self, host: str | None, text: str) -> Profile | None:
        """The profile for a page: by url host first, then by the most signatures found."""
        if host:
            for profile in self.sites:
                if profile.matches_host(host):
                    return profile
        best: tuple[int, int, Profile] | None = None
        low = fold(text)
        for profile in self.sites:
            found = [
                m.start()
                for sig, need in zip(profile.signatures, profile.needles, strict=True)
                if possible(need, low) and (m := sig.search(text))
            ]
            if found and (best is None or (-len(found), min(found)) < best[:2]):
                best = (-len(found), min(found), profile)
        return best[2] if best else None

    def by_source(self, source: str | None) -> Profile | None:
        return next((p for p in self.sites if p.source == source), None) if source else None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read profile ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a profile must be a YAML mapping")
    return data


def load_profiles(extra_dirs: tuple[str, ...] = ()) -> Profiles:
    """Load ``_common.yaml`` and the site profiles (packaged, then ``extra_dirs``); cached
    until a file is added, removed or changed."""
    packaged = resources.files("toolkit.clean") / "profiles"
    paths = sorted(Path(str(p)) for p in packaged.iterdir() if p.name.endswith(".yaml"))
    for d in extra_dirs:
        if not Path(d).is_dir():
            raise InputError(f"profile directory not found: {d}")
        paths += sorted(Path(d).glob("*.yaml"))
    return _load(tuple((str(p), p.stat().st_mtime_ns) for p in paths))


@lru_cache(maxsize=4)
def _load(files: tuple[tuple[str, int], ...]) -> Profiles:
    paths = [Path(name) for name, _ in files]
    common = Vocabulary()
    raw: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in paths:
        data = _read(path)
        if path.name == "_common.yaml":
            common.add(data, str(path))
        elif "source" not in data:
            raise InputError(f"{path}: a site profile needs a `source:` name")
        else:
            raw[str(data["source"])] = (path, data)
    sites = []
    for source, (path, data) in raw.items():
        vocab = Vocabulary()
        vocab.add(data, str(path))
        vocab.add(_common_data(), "_common.yaml")
        try:
            signatures = tuple(re.compile(s, re.MULTILINE) for s in data.get("signatures") or ())
        except re.error as exc:
            raise InputError(f"{path}: invalid signature regex ({exc})") from exc
        hosts = tuple(str(h).lower() for h in data.get("hosts") or ())
        need = tuple(needles(s.pattern, s.flags) for s in signatures)
        sites.append(Profile(source, hosts, signatures, data.get("timezone"), vocab, need))
    return Profiles(common, sites)


@lru_cache(maxsize=1)
def _common_data() -> dict[str, Any]:
    return _read(Path(str(resources.files("toolkit.clean") / "profiles" / "_common.yaml")))
