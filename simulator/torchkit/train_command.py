"""``python -m simulator train``: train one split model (SL or HT) and record accuracy per epoch.

Example::

    python -m simulator train --model vgg16 --split conv3_3_pool --scheme ht --epochs 10 \\
        --width 0.25 --out results/train/vgg16_ht_conv3_3_pool

Writes ``<out>/accuracy.csv`` (one row per epoch, appended as each epoch ends; columns in
:data:`simulator.torchkit.training.ROW_COLUMNS`), ``<out>/config.json`` and
``<out>/checkpoint.pt`` (after every completed epoch). Running the same command again resumes
from the last completed epoch (``--resume`` says so explicitly and insists on a checkpoint;
``--restart`` starts afresh). Bad model, split or scheme: one line on stderr, exit status 2.

torch is imported only inside :func:`run`, so the CLI builds this parser without it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.errors import InputError
from simulator.torchkit.names import INPUT_NAMES, MODEL_NAMES

SYNTHETIC_TRAIN_SAMPLES = 256
SYNTHETIC_TEST_SAMPLES = 64


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``train`` options to ``parser``."""
    parser.description = (
        "Train a model cut at one split point with sequential split learning (sl, = end-to-end "
        "training) or early-exit hierarchical training (ht); one CSV row per epoch.")
    parser.add_argument("--model", required=True, help=f"model: {', '.join(MODEL_NAMES)}")
    parser.add_argument("--split", required=True,
                        help="split point: index or name (as in the profile's split_name)")
    parser.add_argument("--scheme", default="sl", help="sl or ht (default sl)")
    parser.add_argument("--input", default="cifar10",
                        help=f"input: {', '.join(INPUT_NAMES)} (default cifar10)")
    parser.add_argument("--width", type=float, default=0.25,
                        help="channel-width multiplier (default 0.25)")
    parser.add_argument("--head-channels", type=int, default=None,
                        help="early-exit conv channels (default round(128 x width); 0: no conv)")
    parser.add_argument("--head-kernel", type=int, default=3,
                        help="early-exit conv kernel size (default 3)")
    parser.add_argument("--optimizer", default="sgd", help="sgd or adam (default sgd)")
    parser.add_argument("--lr", type=float, default=0.05, help="peak learning rate (default 0.05)")
    parser.add_argument("--momentum", type=float, default=0.9,
                        help="SGD momentum or Adam beta1 (default 0.9)")
    parser.add_argument("--weight-decay", type=float, default=5e-4,
                        help="L2 weight decay (default 5e-4)")
    parser.add_argument("--schedule", default="cosine",
                        help="cosine (per step, to 0) or constant (default cosine)")
    parser.add_argument("--batch-size", type=int, default=64, help="samples per batch (default 64)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, order, augmentation")
    parser.add_argument("--crop-padding", type=int, default=4,
                        help="random-crop padding in pixels (default 4; 0: no crop)")
    parser.add_argument("--no-flip", action="store_true", help="no random horizontal flip")
    parser.add_argument("--train-samples", type=int, default=None,
                        help="use only the first N training images (default all)")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="use only the first N test images (default all)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", type=Path, default=None,
                      help="CIFAR-10 subset .npz (default <repo>/../shared/data/"
                           "cifar10-subset.npz; relative paths from the repository root)")
    data.add_argument("--synthetic", action="store_true",
                      help=f"tiny generated data ({SYNTHETIC_TRAIN_SAMPLES} training / "
                           f"{SYNTHETIC_TEST_SAMPLES} test images), to try the command")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default results/train/<model>_<input>_<scheme>_"
                             "<split>_w<width>_s<seed>)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint in --out (required to exist); "
                            "without this flag an existing checkpoint is resumed too")
    again.add_argument("--restart", action="store_true",
                       help="discard a checkpoint and rows in --out and start afresh")
    parser.add_argument("--stop-after", type=int, default=None, metavar="N",
                        help="train at most N more epochs in this call, then stop (the run "
                             "resumes later with the same command)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~simulator.torchkit.training.TrainConfig` of the parsed options."""
    from simulator.torchkit.training import TrainConfig

    if args.model not in MODEL_NAMES:
        raise InputError(f"unknown model {args.model!r} (allowed: {', '.join(MODEL_NAMES)})")
    split: int | str = int(args.split) if args.split.strip().isdigit() else args.split
    return TrainConfig(
        model=args.model, split=split, scheme=args.scheme, input_name=args.input,
        width=args.width, head_channels=args.head_channels, head_kernel_size=args.head_kernel,
        optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, schedule=args.schedule, batch_size=args.batch_size,
        epochs=args.epochs, seed=args.seed, crop_padding_px=args.crop_padding,
        flip=not args.no_flip, train_samples=args.train_samples,
        test_samples=args.test_samples, threads=args.threads,
    )


def default_out(config: Any) -> Path:
    """``results/train/<model>_<input>_<scheme>_<split name>_w<width>_s<seed>``."""
    from simulator.torchkit.models import split_names

    name = split_names(config.model, config.input_name)[config.split_index()]
    return (Path("results") / "train"
            / f"{config.model}_{config.input_name}_{config.scheme}_{name}_w{config.width:g}"
              f"_s{config.seed}")


def run(args: argparse.Namespace) -> int:
    """Runs the ``train`` command; returns 0 (bad input raises :class:`InputError`)."""
    from tqdm import tqdm

    from simulator.torchkit.data import load_cifar10_subset, synthetic_images
    from simulator.torchkit.training import CHECKPOINT_NAME, train

    config = config_from_args(args)
    out: Path = args.out or default_out(config)
    if args.resume and not (out / CHECKPOINT_NAME).is_file():
        raise InputError(f"--resume: no checkpoint in {out} (run without --resume to start)")
    if args.synthetic:
        data = synthetic_images(SYNTHETIC_TRAIN_SAMPLES, SYNTHETIC_TEST_SAMPLES,
                                seed=config.seed)
    else:
        data = load_cifar10_subset(args.data)

    def progress(iterator: Iterator[Any], total: int, description: str) -> Iterator[Any]:
        return iter(tqdm(iterator, total=total, desc=description, unit="batch",
                         file=sys.stderr, leave=False, disable=True if args.quiet else None))

    def log(line: str) -> None:
        if not args.quiet:
            tqdm.write(line, file=sys.stderr)

    if args.stop_after is not None and args.stop_after < 1:
        raise InputError(f"--stop-after must be an integer >= 1, got {args.stop_after}")
    rows = train(config, data, out, resume=not args.restart, max_new_epochs=args.stop_after,
                 progress=progress, log=log)
    columns = ["epoch", "train_loss", "test_accuracy", "test_exit_accuracy", "train_wall_s"]
    print(rows[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {out / 'accuracy.csv'} ({len(rows)} epochs) and {out / CHECKPOINT_NAME}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m simulator.torchkit.train_command``)."""
    parser = argparse.ArgumentParser(prog="python -m simulator.torchkit.train_command")
    configure(parser)
    try:
        return run(parser.parse_args(argv))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
