"""`report.html`: one self-contained page per run with its config, metrics and plots.

The page embeds every PNG of the run directory as a data URI, so it can be
moved, mailed or opened from a browser without the other files.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import logging
from pathlib import Path
from typing import Any

from modelzoo.runs import write_atomic

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"

# Plots written by modelzoo, shown first in this order; other PNGs follow by name.
KNOWN_PLOTS = ("curves.png", "confusion_matrix.png", "misclassified.png")

_STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1em 2em; max-width: 1100px;
       color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
td, th { border: 1px solid #ddd; padding: .25em .7em; text-align: left; }
th { background: #f3f3f3; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
"""


def write_report(run_dir: str | Path) -> Path:
    """Write `<run_dir>/report.html` from the files in the run directory and return its path.

    The page shows `config.yaml`, the scalar values of `metrics.json`, the
    per-class table of `evaluation.json` when there is one, and every PNG in
    the run directory. Missing files are left out of the page.
    """
    run_dir = Path(run_dir)
    metrics = _read_json(run_dir / "metrics.json")
    evaluation = _read_json(run_dir / "evaluation.json")
    config_path = run_dir / "config.yaml"
    config_text = config_path.read_text(encoding="utf-8") if config_path.is_file() else None
    plots = sorted_plots(run_dir)

    title = f"modelzoo run: {metrics.get('model', run_dir.parent.name)} / {run_dir.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Run directory: <code>{html.escape(str(run_dir.resolve()))}</code><br>"
        f"Report written {datetime.datetime.now().isoformat(timespec='seconds')}</p>",
        "<h2>Metrics</h2>",
        _scalar_table(metrics) if metrics else "<p>No metrics.json in this run.</p>",
    ]
    if evaluation.get("per_class"):
        parts += ["<h2>Per-class test metrics</h2>", _per_class_table(evaluation["per_class"])]
    parts.append("<h2>Plots</h2>")
    if not plots:
        parts.append("<p>No plots in this run.</p>")
    for plot in plots:
        encoded = base64.b64encode(plot.read_bytes()).decode("ascii")
        name = html.escape(plot.name)
        parts.append(f'<figure><img src="data:image/png;base64,{encoded}" alt="{name}">'
                     f"<figcaption>{name}</figcaption></figure>")
    parts.append("<h2>Config</h2>")
    parts.append(f"<pre>{html.escape(config_text)}</pre>" if config_text
                 else "<p>No config.yaml in this run.</p>")
    parts.append("</body></html>\n")

    path = write_atomic(run_dir / REPORT_FILE, "\n".join(parts))
    logger.info("Wrote %s with %d plots", path, len(plots))
    return path


def sorted_plots(run_dir: Path) -> list[Path]:
    """Return the PNG files directly in `run_dir`: known plots first, then the rest by name."""
    found = {path.name: path for path in run_dir.glob("*.png") if path.is_file()}
    known = [found.pop(name) for name in KNOWN_PLOTS if name in found]
    return known + [found[name] for name in sorted(found)]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _scalar_table(values: dict[str, Any]) -> str:
    rows = []
    for key, value in _flatten(values):
        if isinstance(value, float):
            shown = f"{value:.6g}"
        else:
            shown = str(value)
        rows.append(f"<tr><th>{html.escape(key)}</th><td>{html.escape(shown)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _flatten(values: dict[str, Any], prefix: str = ""):
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, list) and len(value) > 20:
            yield name, f"{len(value)} values"
        else:
            yield name, value


def _per_class_table(rows: list[dict[str, Any]]) -> str:
    header = ("<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
              "<th>support</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(str(row['class']))}</td>"
        f"<td class=number>{row['precision']:.4f}</td><td class=number>{row['recall']:.4f}</td>"
        f"<td class=number>{row['f1']:.4f}</td><td class=number>{row['support']}</td></tr>"
        for row in rows
    )
    return f"<table>{header}{body}</table>"
