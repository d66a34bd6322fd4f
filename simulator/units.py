"""Unit constants and the conversions done at the edges of the program.

The internal unit system is fixed (design.md §2): seconds, bytes, bits per second, FLOPs (2 per
multiply–add), FLOP/s, joules, watts. Every magic factor lives here and nowhere else.
"""

from __future__ import annotations

BITS_PER_BYTE = 8
FLOPS_PER_MAC = 2
BYTES_PER_FP32 = 4
BYTES_PER_INT64 = 8

KBIT = 1e3
MBIT = 1e6
GBIT = 1e9
KIB = 2**10
MIB = 2**20
GIB = 2**30
GFLOP = 1e9
TFLOP = 1e12
MS_PER_S = 1e3
S_PER_MIN = 60.0
S_PER_H = 3600.0
J_PER_KJ = 1e3
MW_PER_W = 1e3
"""Milliwatts per watt (radio power models quote mW per Mbit/s)."""
PERCENT = 100.0


def bytes_to_bits(size_bytes: float) -> float:
    """Bits in ``size_bytes`` bytes."""
    return size_bytes * BITS_PER_BYTE


def format_bps(rate_bps: float) -> str:
    """Human-readable bit rate: ``2e6`` → ``'2 Mbit/s'``."""
    for scale, unit in ((GBIT, "Gbit/s"), (MBIT, "Mbit/s"), (KBIT, "kbit/s")):
        if rate_bps >= scale:
            return f"{rate_bps / scale:.3g} {unit}"
    return f"{rate_bps:.3g} bit/s"


def format_bytes(size_bytes: float) -> str:
    """Human-readable size in binary units: ``3 * 2**20`` → ``'3.00 MiB'``."""
    for scale, unit in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.2f} {unit}"
    return f"{size_bytes:.0f} B"
