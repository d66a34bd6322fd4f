"""Fillers: keep each side's CPU busy with its own kind of work while the side waits.

Why: edge and cloud of a measured run share one small machine, and two training processes on
its two vCPUs slow each other down a lot (measured here: about 2.2× each when both train at once,
while a matrix-product neighbour costs a training step almost nothing — the interference comes
from the shared core/cache resources and depends on what the neighbour runs). A real edge device
and a cloud server do not share a core, and the simulator gives each device one constant speed.
Without fillers a side computes at its solo speed while the other side waits (every SL stage)
and at the contended speed while both compute (HT's overlap): no constant speed exists to
calibrate.

How: each role process starts a filler process pinned to the same CPU, with the lowest scheduling
priority (``SCHED_IDLE``: it runs only when nothing else on that CPU wants to), that trains a
private copy of the same side's model part for the same plan in a loop
(:class:`~simulator.torchkit.runtime.LocalSteps`). While the side computes, its filler does not
run at all; while the side waits for a message, the filler keeps the CPU busy with the same kind
of work. So every stage of either side runs next to a busy neighbour of the other side's kind —
the condition under which :mod:`simulator.torchkit.calibration` times its segments (both sides
busy, each with its filler too). The price: the emulated devices run at their contended speed,
and both CPUs are fully busy during runs (the fillers yield to any other process at once).

Fillers are off for runs between two real machines (``--role`` without ``--serve``), where there
is nothing to emulate.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
from multiprocessing.connection import Connection
from typing import Any

from simulator.torchkit.plan import RunPlan, plan_dict, plan_from_dict

IDLE_POLL_S = 0.5
"""How often a filler without a plan checks for one (and for its parent)."""


def _lowest_priority() -> None:
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def filler_main(side: str, cpu: int | None, connection: Connection, parent_pid: int) -> None:
    """The filler process: follow plans sent on ``connection``; train a copy of ``side``'s part
    of the current plan, step after step, until told to stop (``None``) or the parent is gone."""
    from simulator.torchkit.runtime import LocalSteps, pin

    pin(cpu)
    _lowest_priority()
    steps: LocalSteps | None = None
    while os.getppid() == parent_pid:
        if connection.poll(0 if steps is not None else IDLE_POLL_S):
            message: Any = connection.recv()
            if message is None:
                return
            steps = LocalSteps(side, plan_from_dict(message))
            connection.send("following")
            continue
        if steps is not None:
            steps.step()


class Filler:
    """A filler process for one side on one CPU; :meth:`follow` a plan, :meth:`stop` at the end.

    ``follow`` returns once the filler has built the plan's model, so its first steps happen
    before the measured run's time 0.
    """

    def __init__(self, side: str, cpu: int | None) -> None:
        context = mp.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=filler_main, name=f"{side}-filler",
                                       args=(side, cpu, child, os.getpid()), daemon=True)
        self.process.start()

    def follow(self, plan: RunPlan, timeout_s: float = 120.0) -> None:
        self.connection.send(plan_dict(plan))
        if not self.connection.poll(timeout_s):
            raise RuntimeError(f"filler did not start the plan within {timeout_s:g} s")
        self.connection.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError, BrokenPipeError):
            self.connection.send(None)
        self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
