"""The HTML report of a run and of its release is self-contained and renders in a real Chromium (a subprocess).
The run is the session's ``reference_run``, the release its export (tests/conftest.py)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from longtail.pipeline.cli.main import main as cli_main

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture
def sample_run(reference_run):
    return reference_run.output


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed: run scripts/setup_extras.sh (make test does)"
    return found


@pytest.mark.parametrize("which", ["run", "release"])
def test_report_is_self_contained_and_renders_in_chromium(which, sample_run, release, tmp_path):
    folder = sample_run if which == "run" else release
    output = tmp_path / f"{which}.html"
    assert cli_main(["report", str(folder), "--output", str(output)]) == 0
    page = output.read_text()
    for section in ("Documents and words per language", "Removals per reason", "Perplexity distribution", "LID-score distribution",
                    "Duplicate-cluster sizes", "Scripts per language"):
        assert f"<h2>{section}</h2>" in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 8 and all(len(i) > 5000 for i in images)  # the overview's 2 plots, then the 6 per-language ones
    assert page.index('<section id="overview">') < page.index('<img alt="') < page.index("<h2>Languages</h2>")
    assert not re.search(r'(src|href)="(https?:|//|file:)', page), "the page must not load anything from outside"
    assert "yor_Latn" in page and "uig_Arab" in page and "dedup:exact" in page

    screenshot = tmp_path / f"{which}.png"
    result = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", f"--screenshot={screenshot}",
         "--window-size=1280,2000", output.as_uri()],
        capture_output=True, text=True, timeout=180,
    )
    assert screenshot.is_file(), result.stderr[-2000:]
    from PIL import Image, ImageStat

    image = Image.open(screenshot).convert("L")
    assert image.size == (1280, 2000)
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 20, f"screenshot looks blank (pixel stddev {stat.stddev[0]:.1f})"
    dark = sum(image.histogram()[:128])
    assert dark > 0.01 * image.size[0] * image.size[1], "too little ink: text and plots did not render"
    # the lower half holds the first plot, so it must not be blank either
    lower = ImageStat.Stat(image.crop((0, 1000, 1280, 2000)))
    assert lower.stddev[0] > 20
