"""The notebooks: committed without outputs, and run top to bottom in quick mode."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_notebooks_exist_for_each_family():
    assert [path.name for path in NOTEBOOKS] == [
        "autoencoder_mnist.ipynb", "cnn_mnist.ipynb", "lstm_sequences.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)

    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs; clear them"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_quick_mode(path, data_dir, tmp_path, monkeypatch):
    output_dir = tmp_path / "output"
    monkeypatch.setenv("MODELZOO_QUICK", "1")
    monkeypatch.setenv("MODELZOO_NOTEBOOK_OUTPUT", str(output_dir))
    monkeypatch.setenv("MODELZOO_DATA_DIR", str(data_dir))
    notebook = nbformat.read(path, as_version=4)

    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    text = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "quick mode: True" in text
    assert (output_dir / "report.html").is_file()
    assert (output_dir / "curves.png").is_file()
    assert (output_dir / "evaluation.json").is_file()
