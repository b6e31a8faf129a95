"""Decode a page's bytes as a browser does, and say which encoding was used.

Order (the WHATWG "encoding sniffing" steps a browser follows for a saved page, without the
HTTP header a saved file no longer has):

1. ``--encoding X`` (``forced``) wins over everything;
2. a byte order mark (UTF-8, UTF-16 LE/BE);
3. for HTML, the ``<meta charset>`` / ``http-equiv="Content-Type"`` declaration near the top
   (found by :func:`w3lib.encoding.html_body_declared_encoding`);
4. UTF-8;
5. otherwise charset-normalizer's best guess.

A declared encoding or UTF-8 is taken when the bytes decode in it, or when they *mostly* do (at
least 10 well-formed non-ASCII characters per bad byte sequence: a UTF-8 page with one broken
byte): the bad sequences become U+FFFD as in a browser, and are counted
(:attr:`Decoded.replaced`). A declaration the bytes contradict (a "utf-8" page whose bytes are
all Windows-1252, which happens) is not trusted: the detector decides.

Labels are resolved as browsers resolve them (:func:`w3lib.encoding.resolve_encoding`):
``iso-8859-1``, ``latin1`` and ``ascii`` mean Windows-1252, ``gb2312`` and ``gbk`` mean GB18030,
a meta tag saying ``utf-16`` means UTF-8. Windows-1252's five unassigned bytes decode to the C1
control of the same number, as in the WHATWG table (Python's codec refuses them).

Only bytes that no step can decode (binary data, a forced encoding the bytes are not in) are
:class:`Undecodable`; the message names the byte offset and the encoding tried.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from toolkit.errors import InputError

UTF8 = "utf-8"


@dataclass(frozen=True, slots=True)
class Decoded:
    """A page's text, the Python codec that decoded it and the step that chose it
    (``forced``, ``bom``, ``declared``, ``utf-8`` or ``detected``)."""

    text: str
    encoding: str
    via: str
    replaced: int = 0  # bad byte sequences decoded as U+FFFD


class Undecodable(ValueError):
    """Bytes no encoding step could decode: ``offset`` is the first bad byte for
    ``encoding``."""

    def __init__(self, encoding: str, offset: int, reason: str) -> None:
        super().__init__(f"not {encoding} at byte offset {offset} ({reason})")
        self.encoding, self.offset, self.reason = encoding, offset, reason


def _c1_for_unassigned(exc: UnicodeError) -> tuple[str, int]:
    """Error handler: an undefined Windows-1252 byte becomes the C1 control of that number."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(b) for b in bad), exc.end


codecs.register_error("toolkit_c1", _c1_for_unassigned)


def resolve(label: str) -> str | None:
    """The Python codec a browser uses for the encoding label ``label``, or None."""
    from w3lib.encoding import resolve_encoding

    name = resolve_encoding(label.strip().lower())
    if name is None:
        try:
            name = codecs.lookup(label.strip()).name
        except LookupError:
            return None
    return codecs.lookup(name).name


def check_encoding(label: str) -> str:
    """``label`` as a codec name; :class:`InputError` for an unknown one (``--encoding``)."""
    name = resolve(label)
    if name is None:
        raise InputError(
            f"unknown encoding {label!r} for --encoding; use a name such as utf-8, "
            "windows-1252, iso-8859-1, gbk or shift_jis"
        )
    return name


def _strict(data: bytes, encoding: str) -> str:
    """``data`` decoded, raising :class:`Undecodable` at the first bad byte."""
    errors = "toolkit_c1" if encoding == "cp1252" else "strict"
    try:
        return data.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise Undecodable(encoding, exc.start, exc.reason) from None


def _bom(data: bytes) -> tuple[str, bytes] | None:
    from w3lib.encoding import read_bom

    encoding, bom = read_bom(data)
    return (codecs.lookup(encoding).name, data[len(bom) :]) if encoding and bom else None


def _declared(data: bytes) -> str | None:
    from w3lib.encoding import html_body_declared_encoding

    label = html_body_declared_encoding(data[:4096])
    if not label:
        return None
    name = resolve(label)
    if name and name.startswith("utf-16"):  # a meta tag cannot be UTF-16 (the spec: UTF-8)
        return UTF8
    return name


WESTERN = "cp1252"  # a browser's fallback in Western locales
_TIE_CHAOS, _TIE_COHERENCE = 0.02, 0.05


def _detect(data: bytes) -> str | None:
    """charset-normalizer's guess; of single-byte encodings it cannot tell apart (a short
    Latin text decodes the same in cp1250, cp1252 and cp1257), Windows-1252, as a browser."""
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    for match in results:
        tied = (
            match.chaos <= best.chaos + _TIE_CHAOS
            and match.coherence >= best.coherence - _TIE_COHERENCE
        )
        if tied and WESTERN in match.could_be_from_charset:
            return WESTERN
    return resolve(best.encoding)


MOSTLY = 10  # well-formed non-ASCII characters per bad sequence for "mostly decodes"


def _lenient(data: bytes, encoding: str, via: str, always: bool = False) -> Decoded | None:
    """``data`` in ``encoding`` when it decodes, or mostly decodes (bad sequences replaced);
    None when it does not (with ``always``, replaced anyway: a BOM is authoritative)."""
    try:
        return Decoded(_strict(data, encoding), encoding, via)
    except Undecodable:
        pass
    text = data.decode(encoding, "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f") - bad
    if always or good >= MOSTLY * bad:
        return Decoded(text, encoding, via, bad)
    return None


def decode(data: bytes, *, html: bool = False, forced: str | None = None) -> Decoded:
    """Decode one page (see the module docstring for the order of the steps)."""
    if forced:
        encoding = check_encoding(forced)
        bom = _bom(data)
        if bom and bom[0] == encoding:
            data = bom[1]
        return Decoded(_strict(data, encoding), encoding, "forced")
    if bom := _bom(data):
        return _lenient(bom[1], bom[0], "bom", always=True)  # type: ignore[return-value]
    if html and (declared := _declared(data)):
        if found := _lenient(data, declared, "declared"):
            return found
    try:
        return Decoded(data.decode(UTF8), UTF8, "utf-8")
    except UnicodeDecodeError as exc:
        first_error = Undecodable(UTF8, exc.start, exc.reason)
    if found := _lenient(data, UTF8, "utf-8"):
        return found
    detected = _detect(data)
    if detected is None:
        raise first_error
    return Decoded(_strict(data, detected), detected, "detected")
