"""The in-process pacer: a link emulated by holding each message for its serialisation time.

Used for measured runs when kernel shaping (:mod:`simulator.torchkit.netns`) is not available
(not root, no iproute2). The sender's link thread calls :meth:`Pacer.hold` for every message in
FIFO order: the message occupies the link from the moment the link is free until
``start_s + serialization_s``, where the serialisation time is exactly the simulator's
(:func:`simulator.costs.serialization_s`: payload plus ``packet_overhead_bytes`` per
``packet_payload_bytes``, at the link's bit rate). The real bytes cross the loopback interface
during that time; the receiver does not deliver the message before the pacer's end time, and then
adds the one-way latency (:mod:`simulator.torchkit.transport`). So a pacer run reproduces the
simulator's channel by construction and tests the rest: compute, protocol, overlap and the
in-flight window.

This module does not import torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from simulator.costs import serialization_s
from simulator.scenario import Channel

SLEEP_SLACK_S = 0.0005
"""How long before a deadline :func:`sleep_until` stops sleeping and polls instead: Linux wakes a
sleeping thread 50–100 µs late, and on a loaded 2-core machine up to a few hundred µs."""


def clock() -> float:
    """The clock of every measured time stamp: ``time.perf_counter`` (seconds).

    On Linux it reads ``CLOCK_MONOTONIC``, which all processes of one machine share (network
    namespaces do not change it), so edge and cloud on one machine need no clock offset.
    """
    return time.perf_counter()


def sleep_until(deadline_s: float) -> None:
    """Block the calling thread until :func:`clock` reaches ``deadline_s`` (no-op if past).

    Sleeps in one piece to ``SLEEP_SLACK_S`` before the deadline, then yields the CPU in short
    sleeps: precise to about 0.1 ms without spinning on a busy core.
    """
    while True:
        left_s = deadline_s - clock()
        if left_s <= 0:
            return
        time.sleep(left_s - SLEEP_SLACK_S if left_s > 2 * SLEEP_SLACK_S else left_s / 2)


@dataclass
class Pacer:
    """One direction of an emulated link: FIFO, one message serialised at a time.

    ``rate_bps``: the link's bit rate. ``channel``: packet payload and header sizes. The pacer
    keeps when the link becomes free; the caller's thread sends messages one after another.
    """

    rate_bps: float
    channel: Channel
    free_at_s: float = 0.0

    def serialization_s(self, payload_bytes: float) -> float:
        """Seconds ``payload_bytes`` of payload occupy this link (headers included)."""
        return serialization_s(payload_bytes, self.rate_bps, self.channel)

    def reserve(self, payload_bytes: float) -> tuple[float, float]:
        """Book the link for one message handed over now: ``(start_s, end_s)`` on :func:`clock`.

        The message starts when the link is free (FIFO) and ends one serialisation time later.
        The caller sends the bytes and then calls :func:`sleep_until` ``(end_s)`` before the next
        message, so the link stays busy for the whole serialisation.
        """
        start_s = max(clock(), self.free_at_s)
        end_s = start_s + self.serialization_s(payload_bytes)
        self.free_at_s = end_s
        return start_s, end_s
