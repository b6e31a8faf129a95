"""The logistic scorer of :mod:`toolkit.clean.textmeta`, its weights in
``data/metascore.json`` (``python -m training.clean.evaluate_text_metadata --train``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Scorer", "default_scorers"]


@dataclass(frozen=True, slots=True)
class Scorer:
    """A logistic model over named features (missing features count as 0)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.0

    def score(self, values: dict[str, float]) -> float:
        pairs = zip(self.features, self.weights, strict=True)
        z = self.bias + sum(w * values.get(f, 0.0) for f, w in pairs)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=1)
def default_scorers() -> dict[str, Scorer]:
    """The scorers shipped in ``data/metascore.json`` (title, author, published)."""
    path = resources.files("toolkit.clean").joinpath("data", "metascore.json")
    data = json.loads(path.read_text("utf-8"))
    return {
        name: Scorer(tuple(m["features"]), tuple(m["weights"]), m["bias"], m.get("threshold", 0.0))
        for name, m in data["models"].items()
    }
