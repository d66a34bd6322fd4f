"""``python -m simulator profile``: files written, metadata, one-line errors, no torch at import."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulator.torchkit.profile_command import configure, run
from simulator.torchkit.profiler import REQUIRED_COLUMNS, TIME_COLUMNS

pytestmark = pytest.mark.torch

REPO = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (("--model", "alexnet"), ("'alexnet'", "vgg16, resnet18, resnet18_imagenet_stem")),
        (("--model", "vgg16", "--input", "mnist"), ("'mnist'", "cifar10, tinyimagenet")),
        (("--model", "vgg16", "--split", "conv9"), ("'conv9'", "0..14", "conv1_2_pool")),
        (("--model", "resnet18", "--split", "11"), ("'11'", "0..10", "layer4_1")),
        ((), ("--model is required", "vgg16")),
        (("--all", "--model", "vgg16"), ("--all",)),
        (("--model", "vgg16", "--width", "0"), ("--width",)),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(
    argv: tuple[str, ...],
    named: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(parse(*argv, "--out", str(tmp_path), "--quiet")) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert all(text in lines[0] for text in named), lines[0]
    assert "Traceback" not in captured.err and list(tmp_path.iterdir()) == []


def test_main_cli_refuses_an_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.cli import main

    assert main(["profile", "--model", "alexnet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "alexnet" in err[0]


def test_writes_profile_and_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", "resnet18", "--width", "0.125", "--out", str(tmp_path), "--quiet"]
    argv += ["--time", "--time-batch-size", "2", "--repeats", "1", "--warmup", "0"]
    argv += ["--threads", "1"]
    assert run(parse(*argv)) == 0
    frame = pd.read_csv(tmp_path / "resnet18_cifar10.csv")
    assert tuple(frame.columns[: len(REQUIRED_COLUMNS)]) == REQUIRED_COLUMNS
    assert all(column in frame.columns for column in TIME_COLUMNS)
    assert (frame["edge_fwd_flops"] == 2 * frame["edge_fvcore_fwd_macs"]).all()
    meta = json.loads((tmp_path / "resnet18_cifar10.meta.json").read_text())
    assert meta["width"] == 0.125 and meta["counting"]["batch_size"] == 2
    assert meta["versions"]["torch"].startswith("2.") and meta["fvcore"]["version"]
    assert meta["timing"]["threads"] == 1 and meta["timing"]["repeats"] == 1
    assert meta["head"]["conv_channels"] == 16  # round(128 × 0.125)
    assert meta["command"].startswith("python -m simulator profile --model resnet18")
    assert meta["split_names"] == list(frame["split_name"])

    from simulator.profile import load_profile

    profile = load_profile(tmp_path / "resnet18_cifar10.csv")
    assert profile.last_split == 10 and profile.resolve_split("layer2_0", "test") == 4


def test_split_prints_one_split_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model", "vgg16", "--width", "0.25", "--split", "conv2_2_pool", "--no-fvcore"]
    assert run(parse(*argv, "--out", str(tmp_path), "--quiet")) == 0
    out = capsys.readouterr().out
    assert "conv2_2_pool" in out and "activation_bytes" in out and "8192" in out  # 32×8×8 fp32
    assert list(tmp_path.iterdir()) == []


def test_csv_path_as_out(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "mine.csv"
    argv = ["--model", "resnet18", "--width", "0.25", "--no-fvcore", "--quiet"]
    assert run(parse(*argv, "--out", str(target))) == 0
    assert target.is_file() and (tmp_path / "sub" / "mine.meta.json").is_file()
    assert "edge_fvcore_fwd_macs" not in pd.read_csv(target).columns


def test_importing_the_command_does_not_import_torch() -> None:
    code = (
        "import sys, argparse\n"
        "import simulator.torchkit.profile_command as c\n"
        "c.configure(argparse.ArgumentParser())\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
