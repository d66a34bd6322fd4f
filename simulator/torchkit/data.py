"""Image data for the accuracy runs: the CIFAR-10 subset, a synthetic stand-in, and batching.

- :func:`load_cifar10_subset` reads ``cifar10-subset.npz`` (5,438 training and 1,017 test images
  of real CIFAR-10, see ``shared/data/README.md``). The default path is
  ``<repo>/../shared/data/cifar10-subset.npz``, resolved against the repository root, never copied
  into the repository. A missing or malformed file is one :class:`~simulator.errors.InputError`
  line.
- :func:`synthetic_images` makes a tiny, learnable data set (a colour and stripe pattern per
  class plus noise) so tests never need the subset.
- :func:`batches` yields normalised float32 batches in a seeded order, with optional random crop
  (zero padding after normalisation, i.e. the padded border has the mean colour) and horizontal
  flip.

Images are kept as uint8 ``(N, C, H, W)``; normalisation uses the per-channel mean and standard
deviation of the *training* images (:func:`channel_stats`), in units of pixel value / 255.

Randomness: the caller passes a ``numpy.random.Generator``; :func:`epoch_generator` gives the one
for an epoch (and stream) from the run's seed alone, so a run resumed at epoch k draws exactly what
an uninterrupted run draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from simulator.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SUBSET_RELATIVE = Path("..") / "shared" / "data" / "cifar10-subset.npz"
"""Default location of the CIFAR-10 subset, relative to the repository root."""

PIXEL_MAX = 255.0
"""uint8 pixels are divided by this before normalisation."""

ORDER_STREAM = 0
"""Stream index of the batch order in :func:`epoch_generator`."""
AUGMENT_STREAM = 1
"""Stream index of the crop offsets and flips in :func:`epoch_generator`."""


def default_subset_path() -> Path:
    """``<repo>/../shared/data/cifar10-subset.npz`` as an absolute path."""
    return (REPO_ROOT / DEFAULT_SUBSET_RELATIVE).resolve()


@dataclass(frozen=True)
class ImageData:
    """A labelled image data set: uint8 images ``(N, C, H, W)``, int64 labels in 0 … classes-1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def train_samples(self) -> int:
        return len(self.y_train)

    @property
    def test_samples(self) -> int:
        return len(self.y_test)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image."""
        c, h, w = self.x_train.shape[1:]
        return int(c), int(h), int(w)

    def head(self, train_samples: int | None, test_samples: int | None) -> ImageData:
        """The leading ``train_samples`` / ``test_samples`` rows (``None``: all of them)."""
        for what, value, size in (
            ("train", train_samples, self.train_samples),
            ("test", test_samples, self.test_samples),
        ):
            if value is not None and not 1 <= value <= size:
                raise InputError(
                    f"{what}_samples must be in 1..{size} for {self.name}, got {value}"
                )
        return ImageData(
            self.name,
            self.x_train[:train_samples],
            self.y_train[:train_samples],
            self.x_test[:test_samples],
            self.y_test[:test_samples],
            self.num_classes,
        )


def load_cifar10_subset(path: str | Path | None = None) -> ImageData:
    """The CIFAR-10 subset at ``path`` (default :func:`default_subset_path`).

    Relative paths resolve against the repository root. Raises :class:`InputError` (one line)
    when the file is absent or lacks the expected arrays.
    """
    if path is None:
        resolved = default_subset_path()
    else:
        resolved = Path(path)
        if not resolved.is_absolute():
            resolved = (REPO_ROOT / resolved).resolve()
    if not resolved.is_file():
        raise InputError(
            f"{resolved}: CIFAR-10 subset not found (expected the file described in "
            "shared/data/README.md; give another with --data)"
        )
    try:
        with np.load(resolved) as archive:
            arrays = {key: archive[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (KeyError, ValueError, OSError) as exc:
        raise InputError(f"{resolved}: not a CIFAR-10 subset archive ({exc})") from None
    for key in ("x_train", "x_test"):
        if arrays[key].dtype != np.uint8 or arrays[key].ndim != 4:
            raise InputError(
                f"{resolved}: {key} must be uint8 (N, C, H, W), got "
                f"{arrays[key].dtype} {arrays[key].shape}"
            )
    return ImageData(
        "cifar10_subset",
        arrays["x_train"],
        arrays["y_train"].astype(np.int64),
        arrays["x_test"],
        arrays["y_test"].astype(np.int64),
        num_classes=10,
    )


def synthetic_images(
    train_samples: int = 64,
    test_samples: int = 32,
    shape: tuple[int, int, int] = (3, 32, 32),
    num_classes: int = 10,
    seed: int = 0,
) -> ImageData:
    """A tiny learnable data set: each class has its own colour and stripe pattern, plus noise.

    Labels cycle through the classes so every class is present; pixels are uint8 like CIFAR-10.
    """
    rng = np.random.default_rng(seed)
    channels, height, width = shape
    prototypes = rng.uniform(40, 215, size=(num_classes, channels, 1, 1))
    columns = np.arange(width)
    stripes = np.stack([np.sin(2 * np.pi * (k + 1) * columns / width) for k in range(num_classes)])

    def make(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(count, dtype=np.int64) % num_classes
        rng.shuffle(labels)
        pattern = prototypes[labels] + 30 * stripes[labels][:, None, None, :]
        noisy = pattern + rng.normal(0, 25, size=(count, channels, height, width))
        return np.clip(noisy, 0, PIXEL_MAX).astype(np.uint8), labels

    x_train, y_train = make(train_samples)
    x_test, y_test = make(test_samples)
    return ImageData("synthetic", x_train, y_train, x_test, y_test, num_classes)


@dataclass(frozen=True)
class Normalisation:
    """Per-channel mean and standard deviation, in units of pixel value / 255."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def apply(self, images: np.ndarray) -> torch.Tensor:
        """uint8 ``(N, C, H, W)`` → normalised float32 tensor."""
        x = torch.from_numpy(images.astype(np.float32) / np.float32(PIXEL_MAX))
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x - mean) / std


def channel_stats(images: np.ndarray) -> Normalisation:
    """Mean and standard deviation of each channel over uint8 ``images`` (N, C, H, W)."""
    x = images.astype(np.float64) / PIXEL_MAX
    std = x.std(axis=(0, 2, 3))
    std[std == 0] = 1.0
    return Normalisation(
        tuple(float(v) for v in x.mean(axis=(0, 2, 3))), tuple(float(v) for v in std)
    )


def epoch_generator(seed: int, epoch: int, stream: int) -> np.random.Generator:
    """The generator of ``stream`` in ``epoch`` (1-based) of a run with ``seed``.

    Equals ``SeedSequence(seed).spawn(...)[stream].spawn(...)[epoch]``: independent streams,
    drawn from the seed alone, so resuming at any epoch reproduces the same draws.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, epoch)))


def augment(
    x: torch.Tensor, rng: np.random.Generator, crop_padding_px: int, flip: bool
) -> torch.Tensor:
    """Random crop (``crop_padding_px`` of zero padding on each side) and horizontal flip.

    ``x`` is a normalised batch (N, C, H, W); every sample gets its own offsets and coin flip.
    """
    n, _, height, width = x.shape
    if crop_padding_px > 0:
        pad = crop_padding_px
        padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
        rows = rng.integers(0, 2 * pad + 1, size=n)
        cols = rng.integers(0, 2 * pad + 1, size=n)
        x = torch.stack(
            [
                padded[i, :, r : r + height, c : c + width]
                for i, (r, c) in enumerate(zip(rows, cols, strict=True))
            ]
        )
    if flip:
        mask = torch.from_numpy(rng.random(n) < 0.5).view(n, 1, 1, 1)
        x = torch.where(mask, x.flip(3), x)
    return x


def batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    order_rng: np.random.Generator | None = None,
    augment_rng: np.random.Generator | None = None,
    crop_padding_px: int = 0,
    flip: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of (normalised images, labels); the last batch may be smaller.

    ``order_rng``: shuffle with it (``None``: keep the order). ``augment_rng``: crop and flip
    with it (``None``: no augmentation).
    """
    count = len(y)
    order = order_rng.permutation(count) if order_rng is not None else np.arange(count)
    index = torch.from_numpy(order)
    for start in range(0, count, batch_size):
        chosen = index[start : start + batch_size]
        xb = x[chosen]
        if augment_rng is not None:
            xb = augment(xb, augment_rng, crop_padding_px, flip)
        yield xb, y[chosen]


def batch_count(samples: int, batch_size: int) -> int:
    """Batches in one epoch of ``samples`` (the last one may be partial)."""
    return -(-samples // batch_size)
