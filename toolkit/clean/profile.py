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

Each file is checked against :class:`VocabularyFile` (``_common.yaml``) or
:class:`SiteProfileFile` before use: an unknown key (``end_heading:``), a value of the wrong kind
or a regex that does not compile is a :class:`~toolkit.errors.SchemaError` naming the file, line
and key (with the key meant, for a typo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ConfigDict

from toolkit.clean.screen import FirstMatch, fold, needles, possible
from toolkit.errors import InputError
from toolkit.schema.yamlfile import StrictModel, YamlDocument, parse_yaml, validate

_TRIM = " \t·•|:;,.!?-–—»«>›‹<*_\"'“”‘’()[]"


def line_key(line: str) -> str:
    """A line as compared with ``exact`` vocabularies: casefolded, trimmed, spaces collapsed."""
    return " ".join(line.casefold().strip(_TRIM).split())


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r} ({exc})") from None
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]


class _FileModel(StrictModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # `exact: [2024]` is the text 2024


class LineRule(_FileModel):
    """``lines.<reason>``: whole lines (``exact``) and regexes (``patterns``) of one reason."""

    exact: tuple[str, ...] = ()
    patterns: tuple[Regex, ...] = ()


class BlockRule(_FileModel):
    """``blocks[]``: lines from a ``start`` line to an ``end`` line, at most ``max_lines``."""

    reason: str
    start: Regex
    end: Regex
    max_lines: int = 8


class VocabularyFile(_FileModel):
    """The vocabulary keys of ``_common.yaml`` and of every site profile."""

    lines: dict[str, LineRule] = {}
    related_prefixes: tuple[str, ...] = ()
    glued_markers: tuple[str, ...] = ()
    end_headings: tuple[str, ...] = ()
    credit_patterns: tuple[Regex, ...] = ()
    bylines: dict[str, tuple[Regex, ...]] = {}
    byline_labels: tuple[str, ...] = ()
    blocks: tuple[BlockRule, ...] = ()
    timezones: dict[str, str] = {}


class SiteProfileFile(VocabularyFile):
    """A site profile: how to recognise the site's pages, plus vocabulary for them."""

    source: str
    hosts: tuple[str, ...] = ()
    signatures: tuple[Regex, ...] = ()
    timezone: str | None = None


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

    def add(self, data: VocabularyFile, where: str) -> None:
        """Merge one checked file (``_common.yaml`` or a profile) into this vocabulary."""
        try:
            for reason, rule in data.lines.items():
                for item in rule.exact:
                    self.exact.setdefault(line_key(item), reason)
                for pattern in rule.patterns:
                    self._sources.setdefault(reason, []).append(f"(?:{pattern})")
            self.related_prefixes += [p.casefold() for p in data.related_prefixes]
            self.glued_markers += list(data.glued_markers)
            self.end_headings |= {line_key(h) for h in data.end_headings}
            self.credit += [re.compile(p, re.I) for p in data.credit_patterns]
            for role, patterns in data.bylines.items():
                self.bylines += [(role, re.compile(p, re.IGNORECASE)) for p in patterns]
            self.byline_labels |= {line_key(x) for x in data.byline_labels}
            for b in data.blocks:
                start, end = re.compile(b.start, re.I), re.compile(b.end, re.I)
                self.blocks.append(Block(b.reason, start, end, b.max_lines))
            self.timezones.update(data.timezones)
            self.patterns = [
                (reason, re.compile("|".join(sources), re.IGNORECASE))
                for reason, sources in self._sources.items()
            ]
        except re.error as exc:  # patterns that compile alone but not joined, e.g. `(?i)` inside
            raise InputError(f"{where}: invalid profile entry ({exc}); fix the YAML file") from exc
        self.memo.clear()
        self.glued_markers.sort(key=len, reverse=True)
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


def _read(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read profile ({exc})") from exc
    doc = parse_yaml(text, str(path))
    if doc.data is None:
        return YamlDocument(doc.source, {}, doc.lines)
    if not isinstance(doc.data, dict):
        raise InputError(f"{path}: a profile must be a YAML mapping")
    return doc


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
    raw: dict[str, tuple[Path, SiteProfileFile]] = {}
    for path in paths:
        doc = _read(path)
        if path.name == "_common.yaml":
            common.add(validate(VocabularyFile, doc), str(path))
        elif "source" not in doc.data:
            raise InputError(f"{path}: a site profile needs a `source:` name")
        else:
            site = validate(SiteProfileFile, doc)
            raw[site.source] = (path, site)
    sites = []
    for source, (path, site) in raw.items():
        vocab = Vocabulary()
        vocab.add(site, str(path))
        vocab.add(_common_data(), "_common.yaml")
        signatures = tuple(re.compile(s, re.MULTILINE) for s in site.signatures)
        hosts = tuple(h.lower() for h in site.hosts)
        need = tuple(needles(s.pattern, s.flags) for s in signatures)
        sites.append(Profile(source, hosts, signatures, site.timezone, vocab, need))
    return Profiles(common, sites)


@lru_cache(maxsize=1)
def _common_data() -> VocabularyFile:
    path = Path(str(resources.files("toolkit.clean") / "profiles" / "_common.yaml"))
    return validate(VocabularyFile, _read(path))
