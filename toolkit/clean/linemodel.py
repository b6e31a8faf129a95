"""The learned line model: per-line features and a linear classifier shipped with the package.

Every line of a page gets a feature vector from the line itself (length, punctuation,
sentence shape, capitals, digits, stopword share per language, link/menu shape), what the
rules found in it (a vocabulary reason, prose, inside the rules' body run, repeated across
the source's pages) and its neighbours (the same for the lines around it, the share of prose
around it, where it sits in the page's text mass). A multinomial logistic regression over
those features gives each line a probability per label (``body``, ``boilerplate``, ``title``,
``byline``, ``dateline``); :func:`toolkit.clean.segmenter.segment` keeps the lines whose body
probability, smoothed with their neighbours', passes the model's threshold.

The weights live in ``toolkit/clean/models/lines.json`` (trained by ``python -m
training.clean.train``, see docs/cleaning.md); inference is a matrix product (numpy), no
scikit-learn at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from toolkit.clean.lines import LineInfo, is_headline

LABELS = ("body", "boilerplate", "title", "byline", "dateline")
_TERMINAL = frozenset(".!?…")
_PUNCT = frozenset(",.;:!?")
_SEPARATORS = ("|", "•", "·", "»", "›")
_STRIP = "\"'“”‘’()[]{}.,;:!?-–—…«»"

_LINE_FEATURES = (
    "log_words",
    "log_chars",
    "ends_terminal",
    "prose",
    "headline",
    "punct_per_word",
    "digit_share",
    "capitalised_share",
    "stop_en",
    "stop_id",
    "short",
    "separators",
    "chrome",
    "closing",
    "repeated",
    "date",
    "rule_kept",
    "alpha_share",
)
_NEIGHBOUR_FEATURES = ("prose", "rule_kept", "log_words", "stop_max", "chrome")
_OFFSETS = (-2, -1, 1, 2)
_PAGE_FEATURES = (
    "rel_position",
    "mass_before",
    "mass_after",
    "window_prose",
    "window_rule_kept",
    "words_vs_page_max",
    "rule_gap",
    "first",
    "last",
)
FEATURES = (
    _LINE_FEATURES
    + tuple(f"{name}@{off:+d}" for off in _OFFSETS for name in _NEIGHBOUR_FEATURES)
    + _PAGE_FEATURES
)


@lru_cache(maxsize=1)
def stopwords() -> dict[str, frozenset[str]]:
    """English and Indonesian stopwords (jusText's lists, installed with trafilatura)."""
    import justext

    return {
        "en": frozenset(justext.get_stoplist("English")),
        "id": frozenset(justext.get_stoplist("Indonesian")),
    }


def _line_vector(info: LineInfo, prose: bool, kept: bool, closing: frozenset[str]) -> list[float]:
    text = info.text
    words = text.split()
    n = len(words)
    chars = len(text)
    stops = stopwords()
    en = idn = caps = 0
    for w in words:
        low = w.strip(_STRIP).casefold()
        en += low in stops["en"]
        idn += low in stops["id"]
        caps += w[:1].isupper()
    digits = sum(c.isdigit() for c in text)
    alpha = sum(c.isalpha() for c in text)
    punct = sum(c in _PUNCT for c in text)
    last = text.rstrip()[-1:]
    reason = info.reason
    return [
        math.log1p(n),
        math.log1p(chars),
        float(last in _TERMINAL),
        float(prose),
        float(is_headline(text)),
        punct / max(n, 1),
        digits / max(chars, 1),
        caps / max(n, 1),
        en / max(n, 1),
        idn / max(n, 1),
        float(n <= 3),
        float(any(s in text for s in _SEPARATORS)),
        float(reason is not None and reason not in ("header", "footer")),
        float(reason in closing),
        float(reason == "repeated"),
        float(info.date is not None),
        float(kept),
        alpha / max(chars, 1),
    ]


# positions of the neighbour features in a line vector
_NEIGHBOUR_INDEX = [
    _LINE_FEATURES.index(name) if name != "stop_max" else -1 for name in _NEIGHBOUR_FEATURES
]
_STOP_EN, _STOP_ID = _LINE_FEATURES.index("stop_en"), _LINE_FEATURES.index("stop_id")
_PAD = [0.0] * len(_NEIGHBOUR_FEATURES)
WINDOW = 5


def features(
    infos: list[LineInfo], prose: list[bool], kept: set[int], closing: frozenset[str]
) -> np.ndarray:
    """The feature matrix of a page (one row per line, columns as :data:`FEATURES`)."""
    n = len(infos)
    base = [_line_vector(info, prose[i], i in kept, closing) for i, info in enumerate(infos)]
    short = []
    for v in base:
        row = [v[k] if k >= 0 else max(v[_STOP_EN], v[_STOP_ID]) for k in _NEIGHBOUR_INDEX]
        short.append(row)
    mass = [len(info.text) if p else 0 for info, p in zip(infos, prose, strict=True)]
    total = sum(mass) or 1
    most = max((len(info.text.split()) for info in infos), default=1) or 1
    kept_sorted = sorted(kept)
    before = 0
    prose_cum = [0]
    kept_cum = [0]
    for i in range(n):
        prose_cum.append(prose_cum[-1] + prose[i])
        kept_cum.append(kept_cum[-1] + (i in kept))
    rows = []
    for i in range(n):
        row = list(base[i])
        for off in _OFFSETS:
            j = i + off
            row.extend(short[j] if 0 <= j < n else _PAD)
        lo, hi = max(0, i - WINDOW), min(n, i + WINDOW + 1)
        if kept_sorted:
            gap = 0 if i in kept else min(abs(i - kept_sorted[0]), abs(i - kept_sorted[-1]))
        else:
            gap = n
        row.extend(
            (
                i / max(n - 1, 1),
                before / total,
                (total - before - mass[i]) / total,
                (prose_cum[hi] - prose_cum[lo]) / (hi - lo),
                (kept_cum[hi] - kept_cum[lo]) / (hi - lo),
                len(infos[i].text.split()) / most,
                math.log1p(gap),
                float(i == 0),
                float(i == n - 1),
            )
        )
        before += mass[i]
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(n, len(FEATURES))


@dataclass(frozen=True)
class LineModel:
    """A multinomial linear model over :data:`FEATURES` (standardised), with the decision rule:
    body when the body probability, mixed with the neighbours' (``smooth``), is at least
    ``threshold``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)
    labels: tuple[str, ...]
    threshold: float = 0.5
    smooth: float = 0.0
    info: dict | None = None

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(lines, labels) probabilities."""
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def body_scores(self, probs: np.ndarray) -> np.ndarray:
        """The smoothed body probability of each line."""
        p = probs[:, self.labels.index("body")]
        if self.smooth <= 0 or len(p) < 2:
            return p
        padded = np.concatenate(([p[0]], p, [p[-1]]))
        return (1 - self.smooth) * p + self.smooth * 0.5 * (padded[:-2] + padded[2:])

    def to_json(self) -> dict:
        return {
            "features": list(FEATURES),
            "labels": list(self.labels),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "threshold": self.threshold,
            "smooth": self.smooth,
            "info": self.info or {},
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict, origin: str = "model") -> LineModel:
        from toolkit.errors import InputError

        if list(data.get("features", [])) != list(FEATURES):
            raise InputError(
                f"{origin}: the model was trained on other features than this toolkit computes;"
                " retrain it with `python -m training.clean.train`"
            )
        return cls(
            mean=np.asarray(data["mean"]),
            scale=np.asarray(data["scale"]),
            coef=np.asarray(data["coef"]),
            intercept=np.asarray(data["intercept"]),
            labels=tuple(data["labels"]),
            threshold=float(data.get("threshold", 0.5)),
            smooth=float(data.get("smooth", 0.0)),
            info=data.get("info"),
        )

    @classmethod
    def load(cls, path: str | Path) -> LineModel:
        from toolkit.errors import InputError

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read the line model ({exc})") from exc
        return cls.from_json(data, str(path))


@lru_cache(maxsize=1)
def default_model() -> LineModel | None:
    """The model shipped in the package (None when it is missing: rules only)."""
    ref = resources.files("toolkit.clean").joinpath("models/lines.json")
    if not ref.is_file():
        return None
    return LineModel.from_json(
        json.loads(ref.read_text(encoding="utf-8")), "toolkit/clean/models/lines.json"
    )


def band(score: float, threshold: float) -> str:
    """The removal reason of a line the model dropped, by score band."""
    for edge in (0.1, 0.3):
        if score < edge < threshold:
            return f"model<{edge}"
    return f"model<{threshold:.2f}"
