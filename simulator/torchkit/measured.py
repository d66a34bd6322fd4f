"""Measured runs on one machine: launch the edge and cloud processes, collect their spans.

A :class:`MeasureSession` starts two role processes (``python -m simulator measure - --role
edge|cloud --serve``), each pinned to its own CPU with one compute thread, inside two shaped
network namespaces for ``emulation="tc"`` (:mod:`simulator.torchkit.netns`) or on the loopback
interface with the in-process pacer for ``emulation="pacer"``. The processes join one gloo group
and then run jobs (a :class:`~simulator.torchkit.plan.RunPlan` and an output folder) read from
their standard input, one after another, so a series of runs pays the start-up (Python, torch,
gloo, the first model) once; between runs the session changes the ``tbf`` rates in place. Every
run builds its model afresh and warms it up before time 0.

Failure: if one side fails (dies, or waits longer than the stall timeout), the other notices
(closed connection or its own stall timeout) and stops; the session kills whatever is left after
:data:`GRACE_S` or at the run's deadline, keeps the spans both sides wrote, and starts fresh
processes for the next run. Namespaces are always removed when the session closes (also on
SIGTERM and on errors).

:func:`measure` runs one job in its own session. :func:`predict` is the simulator's prediction of
the same run: the scenario with ``samples_per_epoch = batches × batch_size``, one epoch, and for
tc runs the packet model of TCP over ``tbf`` (1448 payload + 66 header bytes per segment).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from simulator.errors import InputError
from simulator.records import Span
from simulator.scenario import Scenario
from simulator.simulate import simulate_scheme
from simulator.torchkit import netns
from simulator.torchkit.plan import (
    DEFAULT_NICE,
    RunPlan,
    make_plan,
    plan_dict,
    read_spans,
    summary,
)

STARTUP_S = 120.0
"""Allowance for starting both processes (Python, torch import, gloo) in a run's deadline."""
GRACE_S = 10.0
"""After one side failed, how long the other gets to notice and write its spans."""
DEFAULT_STALL_TIMEOUT_S = 60.0
GROUP_TIMEOUT_S = 300.0
"""Timeout of the gloo group's collectives (the barriers around each run)."""
TC_PORT = 29500
"""The cloud's port in its namespace (a fresh namespace: every port is free)."""
ROLES = ("cloud", "edge")

Processes = dict[str, "subprocess.Popen[str]"]


@dataclass
class MeasuredRun:
    """One measured run: both sides' spans (edge clock, time 0 = first batch) and the total.

    ``status`` is ``"ok"`` or ``"failed"`` (then ``message`` says what happened and ``spans``
    holds what both sides recorded before it).
    """

    scheme: str
    batches: int
    emulation: str
    status: str
    message: str
    total_s: float
    spans: list[Span]
    out: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --------------------------------------------------------------------------------------------
# Scenario side: what is run and what the simulator predicts


def resolve_emulation(emulation: str) -> str:
    """``auto`` → ``tc`` where kernel shaping is available (root, iproute2), else ``pacer``."""
    if emulation == "auto":
        return "tc" if netns.unavailable_reason() is None else "pacer"
    if emulation == "tc" and (reason := netns.unavailable_reason()) is not None:
        raise InputError(f"--emulation tc: {reason} (use --emulation pacer)")
    if emulation not in ("tc", "pacer"):
        raise InputError(f"emulation on one machine is auto, tc or pacer, not {emulation!r}")
    return emulation


def for_emulation(scenario: Scenario, emulation: str) -> Scenario:
    """The scenario whose channel model matches the emulation: TCP segments over ``tbf`` for tc
    (1448 + 66 bytes per packet); the pacer emulates the scenario's own packet model."""
    if emulation != "tc":
        return scenario
    channel = replace(scenario.channel, packet_payload_bytes=netns.TC_PACKET_PAYLOAD_BYTES,
                      packet_overhead_bytes=netns.TC_PACKET_OVERHEAD_BYTES)
    return replace(scenario, channel=channel)


def for_batches(scenario: Scenario, scheme: str, batches: int) -> Scenario:
    """The scenario of a measured run: ``batches`` full batches, one epoch, one scheme."""
    workload = replace(scenario.workload, samples_per_epoch=batches * scenario.workload.batch_size,
                       epochs=1)
    return replace(scenario, workload=workload, schemes=(scheme,))  # type: ignore[arg-type]


def predict(scenario: Scenario, scheme: str, batches: int, emulation: str,
            keep_spans: bool = False) -> tuple[float, tuple[Span, ...]]:
    """The simulator's total time (s) and spans for the measured run of ``scheme``."""
    target = for_batches(for_emulation(scenario, emulation), scheme, batches)
    result = simulate_scheme(target, scheme, method="des",  # type: ignore[arg-type]
                             keep_spans=keep_spans)
    if not result.ok:
        raise InputError(f"{scenario.source}: the simulator cannot run {scheme}: {result.reason}")
    return result.total_s, result.spans


def default_stall_timeout_s(scenario: Scenario, emulation: str) -> float:
    """60 s, or three times the simulator's time of one SL batch if that is longer."""
    sl_s, _ = predict(scenario, "sl", 1, emulation)
    return max(DEFAULT_STALL_TIMEOUT_S, 3 * sl_s)


def default_cpus() -> tuple[int | None, int | None]:
    """Edge on the first allowed CPU, cloud on the second (no pinning with one CPU)."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(allowed) < 2:
        return None, None
    return allowed[0], allowed[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------------------------
# The session


class _Lines(threading.Thread):
    """Reads a role's stdout lines (its JSON results) into a queue; ``None`` at EOF."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: queue.Queue[str | None] = queue.Queue()

    def run(self) -> None:
        for line in self.stream:
            if line.strip():
                self.lines.put(line)
        self.lines.put(None)


@contextlib.contextmanager
def terminate_on_signal() -> Iterator[None]:
    """Turn SIGTERM into an exception so ``finally`` blocks (namespace removal) run."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class MeasureSession:
    """Persistent edge and cloud processes for a series of measured runs (a context manager).

    ``emulation``: ``tc`` or ``pacer`` (resolve ``auto`` first). ``logs``: folder of the role
    processes' logs (``edge.log``, ``cloud.log``). ``cpus``: (edge, cloud) CPUs. ``nice``: the
    processes' priority where allowed (default
    :data:`~simulator.torchkit.plan.DEFAULT_NICE`). Each run's plan carries its stall
    timeout.
    """

    def __init__(self, emulation: str, logs: Path, cpus: tuple[int | None, int | None] | None =
                 None, extra_env: dict[str, str] | None = None, nice: int | None = None
                 ) -> None:
        self.emulation = emulation
        self.nice = DEFAULT_NICE if nice is None else nice
        self.logs = logs
        self.cpus = cpus if cpus is not None else default_cpus()
        self.extra_env = extra_env or {}
        self.link: netns.ShapedLink | None = None
        self.rates: tuple[float, float] | None = None
        self.processes: Processes = {}
        self.readers: dict[str, _Lines] = {}
        self.log_files: dict[str, IO[bytes]] = {}
        self.starts = 0
        self.signals = terminate_on_signal()

    def __enter__(self) -> MeasureSession:
        self.signals.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            self.close()
        finally:
            self.signals.__exit__(kind, error, trace)

    def close(self) -> None:
        """Stop the role processes and remove the namespaces."""
        self._stop()
        if self.link is not None:
            self.link.remove()
            self.link = None

    # -- processes

    def _start(self, plan: RunPlan) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.extra_env}
        if self.emulation == "tc":
            if self.link is None:
                self.link = netns.ShapedLink(plan.uplink_bps, plan.downlink_bps,
                                             self.cpus).__enter__()
                self.rates = (plan.uplink_bps, plan.downlink_bps)
            master = f"{netns.CLOUD_ADDRESS}:{TC_PORT}"
        else:
            master = f"127.0.0.1:{free_port()}"
        edge_cpu, cloud_cpu = self.cpus
        for role, cpu in (("cloud", cloud_cpu), ("edge", edge_cpu)):
            command = [sys.executable, "-m", "simulator", "measure", "-", "--role", role,
                       "--master-addr", master, "--serve", "--same-host",
                       "--timeout", f"{GROUP_TIMEOUT_S:g}"]
            if cpu is not None:
                command += ["--cpu", str(cpu)]
            command += ["--nice", str(self.nice)]
            role_env = dict(env)
            if self.link is not None:
                command = self.link.exec_prefix(role) + command
                role_env["GLOO_SOCKET_IFNAME"] = self.link.device(role)
            else:
                role_env["GLOO_SOCKET_IFNAME"] = "lo"
            log = (self.logs / f"{role}.log").open("ab")
            self.log_files[role] = log
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=log, env=role_env, text=True)
            assert process.stdout is not None
            self.processes[role] = process
            self.readers[role] = _Lines(process.stdout)
            self.readers[role].start()
        self.starts += 1

    def _stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    assert process.stdin is not None
                    process.stdin.close()
        deadline_s = time.monotonic() + 2.0
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline_s - time.monotonic()))
            if process.poll() is None:
                process.kill()
                process.wait()
        for log in self.log_files.values():
            log.close()
        self.processes, self.readers, self.log_files = {}, {}, {}

    def _set_rates(self, plan: RunPlan) -> None:
        if self.link is None or self.rates == (plan.uplink_bps, plan.downlink_bps):
            return
        self.link.set_rates(plan.uplink_bps, plan.downlink_bps)
        self.rates = (plan.uplink_bps, plan.downlink_bps)

    # -- runs

    def run(self, plan: RunPlan, out: Path, predicted_s: float,
            on_start: Callable[[Processes], None] | None = None) -> MeasuredRun:
        """One measured run of ``plan``; files under ``out``. ``predicted_s`` (the simulator's
        time) sets the deadline; ``on_start`` gets the processes once the run is dispatched."""
        if plan.emulation != self.emulation:
            raise ValueError(f"plan for {plan.emulation}, session for {self.emulation}")
        out.mkdir(parents=True, exist_ok=True)
        for stale in ("spans.csv", "measured.json", "edge_spans.csv", "cloud_spans.csv",
                      "edge.json", "cloud.json"):
            with contextlib.suppress(FileNotFoundError):
                (out / stale).unlink()
        fresh = not self.processes
        if fresh:
            self._start(plan)
        self._set_rates(plan)
        from simulator.torchkit.runtime import Job  # torch: only when a run happens

        line = Job(plan, out).to_json() + "\n"
        for process in self.processes.values():
            assert process.stdin is not None
            with contextlib.suppress(OSError):
                process.stdin.write(line)
                process.stdin.flush()
        if on_start is not None:
            on_start(self.processes)
        deadline_s = (time.monotonic() + (STARTUP_S if fresh else 0.0) + 30.0 + 3 * predicted_s
                      + 2 * plan.stall_timeout_s)
        results, killed = self._results(deadline_s)
        meta: dict[str, Any] = {"emulation": self.emulation, "nice": self.nice,
                                "predicted_s": predicted_s,
                                "fresh_processes": fresh, "results": results,
                                "killed_by_launcher": sorted(killed),
                                "plan": plan_dict(plan)}
        if self.link is not None:
            meta["qdisc"] = {role: self.link.qdisc_stats(role) for role in ("edge", "cloud")}
        run = _collect(plan, out, results, killed, meta, self.logs)
        if not run.ok:
            self._stop()  # the next run starts fresh processes
        return run

    def _results(self, deadline_s: float) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Each role's result line (or how it ended), killing roles past the deadline or more
        than :data:`GRACE_S` after a failed peer."""
        results: dict[str, dict[str, Any]] = {}
        killed: set[str] = set()
        grace_until = math.inf
        while len(results) < len(self.processes):
            now = time.monotonic()
            for role, process in self.processes.items():
                if role in results:
                    continue
                with contextlib.suppress(queue.Empty):
                    line = self.readers[role].lines.get_nowait()
                    if line is None:  # the process ended without a result
                        results[role] = {"status": "failed", "exit": process.wait()}
                    else:
                        results[role] = json.loads(line)
                    if results[role]["status"] != "ok":
                        grace_until = min(grace_until, now + GRACE_S)
                    continue
                if now > deadline_s or now > grace_until:
                    process.kill()
                    results[role] = {"status": "failed", "exit": process.wait()}
                    killed.add(role)
            time.sleep(0.02)
        return results, killed


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()
                 and "[c10d]" not in line]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _collect(plan: RunPlan, out: Path, results: dict[str, dict[str, Any]], killed: set[str],
             meta: dict[str, Any], logs: Path) -> MeasuredRun:
    roles = {}
    for role in ("edge", "cloud"):
        path = out / f"{role}.json"
        roles[role] = json.loads(path.read_text()) if path.is_file() else {}
    meta["roles"] = roles
    (out / "launcher.json").write_text(json.dumps(meta, indent=2) + "\n")
    if all(r.get("status") == "ok" for r in results.values()) and (out / "spans.csv").is_file():
        spans = read_spans(out / "spans.csv")
        return MeasuredRun(plan.scheme, plan.batches, plan.emulation, "ok", "",
                           summary(plan, spans)["total_s"], spans, out, meta)
    messages = []
    for role in ("edge", "cloud"):
        result = results.get(role, {})
        text = result.get("message") or roles[role].get("message") or ""
        code = result.get("exit")
        if role in killed:
            text = "killed by the launcher: did not stop in time"
        elif code is not None and code < 0:
            text = f"killed by signal {-code}"
        elif not text:
            text = _tail(logs / f"{role}.log") or f"exit {code}"
        messages.append(f"{role}: {text}")
    spans = sorted(read_spans(out / "edge_spans.csv") + read_spans(out / "cloud_spans.csv"),
                   key=lambda s: (s.start_s, s.resource))
    return MeasuredRun(plan.scheme, plan.batches, plan.emulation, "failed", "; ".join(messages),
                       math.nan, spans, out, meta)


# --------------------------------------------------------------------------------------------
# One run


def measure(scenario: Scenario, scheme: str, batches: int, emulation: str = "auto",
            out: Path | None = None, warmup_batches: int = 2,
            stall_timeout_s: float | None = None,
            cpus: tuple[int | None, int | None] | None = None,
            on_start: Callable[[Processes], None] | None = None,
            nice: int | None = None) -> MeasuredRun:
    """Run ``scheme`` for ``batches`` batches with real edge and cloud processes (its own
    session). ``stall_timeout_s``: how long either side waits for a message before it gives up
    (default :func:`default_stall_timeout_s`). ``cpus``: the (edge, cloud) CPUs (default the
    first two allowed; ``(None, None)``: no pinning). ``on_start`` receives the two processes
    once the run is dispatched (tests kill one). ``nice``: see :class:`MeasureSession`."""
    emulation = resolve_emulation(emulation)
    if stall_timeout_s is None:
        stall_timeout_s = default_stall_timeout_s(scenario, emulation)
    plan = make_plan(scenario, scheme, batches, emulation, warmup_batches, stall_timeout_s)
    if out is None:
        out = Path("results") / "measured" / f"{scenario.name}_{scheme}_{int(time.time())}"
    predicted_s, _ = predict(scenario, scheme, batches, emulation)
    with MeasureSession(emulation, out, cpus, nice=nice) as session:
        return session.run(plan, out, predicted_s, on_start)
