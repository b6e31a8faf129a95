"""Figures in the card: drawn at version time and by `toolkit dataset card`, checksummed."""

from __future__ import annotations

import builtins
import json
import re

import pytest
from click.testing import CliRunner
from newsversion import pull_synthetic, write_hand_version

from toolkit.cli import cli
from toolkit.dataset import plots
from toolkit.dataset import version as v

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

FIGURES = ["label_counts.png", "agreement.png", "annotators.png", "changelog.png"]


def referenced(card: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", card)


def assert_png(path):
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG" and image.width > 200 and image.height > 100
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 10  # not a blank canvas


@pytest.fixture(scope="module")
def two_pulls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plots")
    exports = tmp / "exports"
    first = pull_synthetic(tmp, exports, n=80, seed=5)
    second = pull_synthetic(tmp, exports, n=100, seed=6)
    return first, second


def test_pull_draws_figures_into_the_version(two_pulls):
    first, second = two_pulls
    manifest = v.read_manifest(second)
    assert manifest["figures"] == [f"figures/{name}" for name in FIGURES]
    card = (second / "README.md").read_text()
    assert referenced(card) == manifest["figures"]
    for rel in manifest["figures"]:
        assert rel in manifest["files"]
        assert_png(second / rel)
    assert "figures/changelog.png" not in v.read_manifest(first)["figures"]  # no parent
    assert v.verify_version(second, deep=True) == []
    from datasets import load_dataset

    assert load_dataset(str(second))["train"].num_rows == manifest["rows"]["default"]["train"]


def test_figure_data_is_what_the_files_say(two_pulls):
    _, second = two_pulls
    manifest = v.read_manifest(second)
    counts = plots.label_counts(second, manifest)
    from toolkit.dataset.export import iter_split

    for split in v.SPLITS:
        rows = [row for row, _ in iter_split(second, manifest, "default", split)]
        expected = {}
        for row in rows:
            for span in row["entities"]:
                expected[span["label"]] = expected.get(span["label"], 0) + 1
        assert dict(counts["entities"].get(split, {})) == expected
    people = plots.annotator_counts(second, manifest)
    assert sum(sum(c.values()) for c in people.values()) == sum(
        manifest["rows"]["annotations"].values()
    )
    assert all(name.startswith("ann_") for name in people)
    report = json.loads((second / "agreement.json").read_text())
    bars = dict((label, (value, n)) for label, value, n in plots.agreement_bars(second))
    per = report["choices"]["stance"]["per_label"]["FAVOR"]
    assert bars["stance.FAVOR (alpha)"] == (per["krippendorff_alpha"], per["items"])


def test_card_command_adds_figures_to_an_old_version(tmp_path):
    exports = tmp_path / "exports"
    version = write_hand_version(exports)  # written without figures, like older versions
    before = v.read_manifest(version)
    assert "figures" not in before and not (version / "figures").exists()
    result = CliRunner().invoke(cli, ["dataset", "card", str(version)])
    assert result.exit_code == 0, result.output
    assert "1 figure(s)" in result.output  # no agreement.json, no annotations, no parent
    after = v.read_manifest(version)
    assert after["figures"] == ["figures/label_counts.png"]
    for rel in after["figures"]:
        assert_png(version / rel)
    assert v.verify_version(version, deep=True) == []
    assert after["content_sha256"] == before["content_sha256"]
    unchanged = {k: m for k, m in before["files"].items() if k != "README.md"}
    assert {k: after["files"][k] for k in unchanged} == unchanged
    card = (version / "README.md").read_text()
    assert referenced(card) == after["figures"]
    assert card.count("## Figures") == 1 and card.index("## Figures") < card.index("## How to")
    # again: the same figures and card (PNGs carry no date), verify still passes
    png = (version / after["figures"][0]).read_bytes()
    assert CliRunner().invoke(cli, ["dataset", "card", str(version)]).exit_code == 0
    assert (version / after["figures"][0]).read_bytes() == png
    assert (version / "README.md").read_text() == card
    assert v.verify_version(version) == []


def test_card_command_redraws_the_same_figures(two_pulls):
    _, second = two_pulls
    before = v.read_manifest(second)
    pngs = {rel: (second / rel).read_bytes() for rel in before["figures"]}
    result = CliRunner().invoke(cli, ["dataset", "card", str(second)])
    assert result.exit_code == 0, result.output
    assert "4 figure(s)" in result.output
    after = v.read_manifest(second)
    assert {rel: (second / rel).read_bytes() for rel in after["figures"]} == pngs
    assert {k: m for k, m in after["files"].items()} == before["files"]
    assert v.verify_version(second) == []


def test_card_command_refuses_damaged_data_and_repairs_a_broken_card(tmp_path):
    version = write_hand_version(tmp_path / "exports")
    card = version / "README.md"
    card.chmod(0o644)
    card.write_text(card.read_text() + "\ninterrupted refresh\n")
    assert v.verify_version(version)  # the card no longer matches
    assert CliRunner().invoke(cli, ["dataset", "card", str(version)]).exit_code == 0
    assert v.verify_version(version) == []
    data = version / "data" / "train-00000-of-00001.parquet"
    data.chmod(0o644)
    data.write_bytes(data.read_bytes()[:-10])
    result = CliRunner().invoke(cli, ["dataset", "card", str(version)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refusing to touch a version whose data files do not match" in result.output


def test_without_matplotlib_the_card_says_how(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):  # fault injection: the extra is missing
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    exports = tmp_path / "exports"
    path = pull_synthetic(tmp_path, exports, n=20, seed=9)
    card = (path / "README.md").read_text()
    assert "matplotlib is not installed" in card
    assert "pip install 'toolkit[plots]'" in card and "toolkit dataset card news/0.1.0" in card
    assert v.read_manifest(path)["figures"] == [] and not (path / "figures").exists()
    result = CliRunner().invoke(cli, ["dataset", "card", str(path)])
    assert result.exit_code == 1 and "pip install 'toolkit[plots]'" in result.output
