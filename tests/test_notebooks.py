"""The notebooks in ``notebooks/`` run top to bottom, as CI runs them.

Each notebook is read, executed in memory by ``nbclient`` with the ``python3`` kernel (cwd: a
temporary folder, ``NOTEBOOK_OUT`` pointing there, so nothing is written into the checkout) and
never written back: the committed files keep no outputs. A first cell injected here checks that
the kernel runs in this interpreter's environment (the ``python3`` kernelspec of the venv, whose
``python`` jupyter_client replaces by the running interpreter) — a kernel from another
environment would import another ``simulator`` or none.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from .conftest import REPO
from .test_plots_more import runs_frame, savings_frame

NOTEBOOKS = REPO / "notebooks"
NAMES = ("tour", "split_design", "validation")
CELL_TIMEOUT_S = 120
KERNEL_CHECK = "import sys\nprint('KERNEL_PREFIX=' + sys.prefix)"


def execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            env: dict[str, str] | None = None,
            parameters: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Run a copy of ``notebooks/<name>.ipynb``; return it with its outputs (file untouched).

    ``parameters``: name → Python source of its new value, replacing the line that assigns it
    in the cell tagged ``parameters`` (as papermill would).
    """
    monkeypatch.setenv("NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.delenv("VALIDATION_RUNS", raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    for key, value in (parameters or {}).items():
        lines = cell.source.splitlines()
        where = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        assert where, f"{name}.ipynb: no parameter {key}"
        lines[where[0]] = f"{key} = {value}"
        cell.source = "\n".join(lines)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(KERNEL_CHECK))
    started = time.perf_counter()
    NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    print(f"{name}.ipynb ran in {time.perf_counter() - started:.1f} s")
    assert f"KERNEL_PREFIX={sys.prefix}" in texts(notebook)[0], (
        "the python3 kernel runs another environment; install this one's kernelspec: "
        f"{sys.executable} -m ipykernel install --sys-prefix --name python3")
    return notebook


def texts(notebook: nbformat.NotebookNode) -> list[str]:
    """Text output (streams, plain text, Markdown) of each cell, joined per cell."""
    found = []
    for cell in notebook.cells:
        parts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output["text"])
            data = output.get("data", {})
            parts += [data[k] for k in ("text/plain", "text/markdown") if k in data]
        found.append("\n".join(parts))
    return found


def images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells for output in cell.get("outputs", []))


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_are_valid_and_have_no_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}.ipynb has outputs: strip them before committing "
                "(jupyter nbconvert --clear-output --inplace notebooks/*.ipynb)")


@pytest.mark.slow
def test_tour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("tour", tmp_path, monkeypatch)
    text = "\n".join(texts(notebook))
    assert "hierarchical training saves" in text  # the comparison table
    assert "In the default scenario" in text  # the computed interpretation
    assert images(notebook) == 3  # timeline, saving vs bit rate, heatmap
    assert (tmp_path / "out" / "tour" / "sweep" / "results.csv").is_file()


@pytest.mark.slow
def test_split_design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("split_design", tmp_path, monkeypatch)
    text = "\n".join(texts(notebook))
    assert "Choose " in text and "Why the others lose" in text
    assert "does not fit" in text
    accuracy = REPO / "profiles" / "accuracy" / "resnet18_tinyimagenet.csv"
    if not accuracy.is_file():
        assert "No accuracy table at" in text
    assert images(notebook) >= 1


@pytest.mark.slow
def test_split_design_with_a_made_up_accuracy_table(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rows = []
    for scheme, split, curve in (("sl", "layer2_0", [0.20, 0.35, 0.45, 0.52]),
                                 ("ht", "layer2_0", [0.18, 0.30, 0.41, 0.50]),
                                 ("ht", "layer1_1", [0.17, 0.30, 0.44, 0.51])):
        for seed in (0, 1):
            for epoch, accuracy in enumerate(curve, start=1):
                rows.append({"model": "resnet18", "input": "tinyimagenet", "split_name": split,
                             "scheme": scheme, "seed": seed, "epoch": epoch,
                             "test_accuracy": accuracy, "train_samples": 5000,
                             "batch_size": 64})
    table = tmp_path / "accuracy.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    notebook = execute("split_design", tmp_path, monkeypatch,
                       parameters={"ACCURACY": repr(str(table)), "TARGET_ACCURACY": "0.5"})
    text = "\n".join(texts(notebook))
    assert "fastest to 0.5: " in text  # SL reaches 0.52 at epoch 4, HT 0.50 / 0.51
    assert images(notebook) == 2  # split design, accuracy vs time


@pytest.mark.slow
def test_validation_without_a_table_says_so(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no" / "runs.csv"
    notebook = execute("validation", tmp_path, monkeypatch, {"VALIDATION_RUNS": str(missing)})
    text = "\n".join(texts(notebook))
    assert "No validation table found" in text and str(missing) in text
    assert images(notebook) == 0


@pytest.mark.slow
def test_validation_with_a_made_up_table(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    runs = runs_frame()
    runs.to_csv(tmp_path / "runs.csv", index=False)
    savings_frame(runs).to_csv(tmp_path / "savings.csv", index=False)
    notebook = execute("validation", tmp_path, monkeypatch,
                       {"VALIDATION_RUNS": str(tmp_path / "runs.csv")})
    text = "\n".join(texts(notebook))
    assert f"{len(runs)} of {len(runs)} points measured" in text
    assert "Median |error| 3.0 %" in text  # errors cycle 4, 2, 6, 1 % (test_plots_more)
    assert images(notebook) == 3  # predicted vs measured, error per point, saving
