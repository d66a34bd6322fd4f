"""Channel-count scaling shared by the model definitions.

A ``width`` multiplier scales every channel count of a model (and of the default early-exit
head) so that CPU training runs stay short: ``width=0.25`` has about 1/16 of the FLOPs.
"""

from __future__ import annotations


def check_width(width: float) -> float:
    """``width`` as a float; raises ``ValueError`` unless it is a finite number > 0."""
    if isinstance(width, bool) or not isinstance(width, int | float):
        raise ValueError(f"width must be a number > 0, got {width!r}")
    value = float(width)
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"width must be a finite number > 0, got {width!r}")
    return value


def scaled(channels: int, width: float) -> int:
    """``channels × width`` rounded to the nearest integer, at least 1."""
    return max(1, round(channels * width))
