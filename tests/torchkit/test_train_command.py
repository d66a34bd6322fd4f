"""``python -m simulator train``: rows per epoch, resume after a stop, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simulator.cli import main

pytestmark = pytest.mark.torch

TINY = ["--width", "0.0625", "--synthetic", "--train-samples", "32", "--test-samples", "16",
        "--batch-size", "16", "--quiet"]


def test_train_stops_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["train", "--model", "vgg16", "--split", "conv2_2_pool", "--scheme", "ht",
            "--epochs", "2", "--out", str(out), *TINY]
    assert main([*args, "--stop-after", "1"]) == 0
    assert list(pd.read_csv(out / "accuracy.csv")["epoch"]) == [1]
    assert main([*args, "--resume"]) == 0
    rows = pd.read_csv(out / "accuracy.csv")
    assert list(rows["epoch"]) == [1, 2]
    assert set(rows["split_name"]) == {"conv2_2_pool"} and set(rows["scheme"]) == {"ht"}
    assert rows["test_exit_accuracy"].notna().all()
    assert (out / "checkpoint.pt").is_file() and (out / "config.json").is_file()
    assert "accuracy.csv (2 epochs)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--model", "vgg17", "--split", "3"], "unknown model 'vgg17'"),
     (["--model", "vgg16", "--split", "conv9"], "unknown split 'conv9'"),
     (["--model", "vgg16", "--split", "3", "--scheme", "fl"], "unknown scheme 'fl'"),
     (["--model", "vgg16", "--split", "3", "--resume"], "no checkpoint"),
     (["--model", "vgg16", "--split", "3", "--data", "absent.npz"], "subset not found")],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      extra: list[str], message: str) -> None:
    args = ["train", *extra, "--out", str(tmp_path / "out"), "--quiet"]
    if "--data" not in extra:
        args.append("--synthetic")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
