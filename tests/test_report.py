"""report.html of a real run, rendered in headless Chromium."""

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from modelzoo.report import write_report

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]


def test_report_shows_config_metrics_and_every_plot(cnn_run):
    html = write_report(cnn_run).read_text()

    assert "test_accuracy" in html
    assert "early_stopping:" in html  # a line of config.yaml
    assert "Per-class test metrics" in html
    pngs = sorted(path.name for path in cnn_run.glob("*.png"))
    assert {"curves.png", "confusion_matrix.png", "misclassified.png"} <= set(pngs)
    assert html.count('<img src="data:image/png;base64,') == len(pngs)
    for name in pngs:
        assert f"<figcaption>{name}</figcaption>" in html


def test_report_escapes_html_and_handles_missing_files(tmp_path):
    (tmp_path / "config.yaml").write_text("model:\n  name: <script>alert(1)</script>\n")

    html = write_report(tmp_path).read_text()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "No metrics.json in this run." in html
    assert "No plots in this run." in html


def test_report_renders_in_headless_chromium(cnn_run, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed. Install Debian's package: apt-get install -y chromium")
    report = write_report(cnn_run)
    screenshot = tmp_path / "report.png"

    completed = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={screenshot}", "--window-size=1200,2400", report.resolve().as_uri()],
        capture_output=True, text=True, timeout=120,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    pixels = np.asarray(Image.open(screenshot).convert("RGB"), dtype="float32")
    assert pixels.shape[:2] == (2400, 1200)
    not_white = (pixels < 240).any(axis=-1).mean()
    assert not_white > 0.05, f"only {not_white:.3%} of the screenshot is not white"
    # The confusion matrix is drawn in blues: some pixels must be clearly blue.
    blue = (pixels[..., 2] > pixels[..., 0] + 40).mean()
    assert blue > 0.001, f"only {blue:.4%} of the screenshot is blue"
