"""The edge and cloud programs of a measured run: real split training, timed stage by stage.

Each program is one process with one compute thread (``torch.set_num_threads(1)``, pinned to one
CPU when asked) plus two link threads (:mod:`simulator.torchkit.transport`). The compute is the
shared step functions of :mod:`simulator.torchkit.training`, unchanged; stage boundaries inside
them are time-stamped by hooks:

* a forward hook on the edge part marks the end of the edge forward (and, in HT with
  ``send_after = "forward"``, hands the cut tensor to the uplink right there, after taking an
  in-flight slot — the simulator's order: forward, slot, hand-over, early exit and backward);
* a gradient hook on the cut tensor marks the end of the early exit's backward, where the edge
  backward starts;
* a forward hook on the cloud part marks the end of the cloud forward.

The protocol is the simulator's (:mod:`simulator.engine`):

* **SL**, per batch: edge forward → cut tensor and labels up → cloud forward, backward, update →
  gradient of the cut tensor down → edge backward and update. Nothing overlaps.
* **HT**: the edge runs :func:`~simulator.torchkit.training.edge_step` batch after batch. A batch
  takes one of ``max_batches_in_flight`` slots when the edge hands it to the uplink and frees it
  when the cloud's acknowledgement (sent when the cloud has trained the batch) reaches the edge.
  The cloud trains batches in arrival order with
  :func:`~simulator.torchkit.training.cloud_step_detached`.

Spans use the simulator's schema (:class:`simulator.records.Span`): ``edge`` fwd / exit / bwd,
``uplink`` send, ``cloud`` fwd / bwd, ``downlink`` send, on the edge's clock with time 0 when the
edge starts the first batch (after an untimed warm-up on both sides and a barrier). Each side
appends its spans to ``<out>/<role>_spans.csv`` as they happen, so a side that dies leaves its
spans behind; after a complete run the cloud sends its spans to the edge, which writes the merged
``spans.csv`` and ``measured.json``.

Inputs are random tensors of the model's input shape (four distinct batches, cycled): time does
not depend on pixel values for these dense models.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import torch
import torch.distributed as dist
from torch import nn

from simulator.errors import InputError
from simulator.records import RESOURCES, Span
from simulator.torchkit.models import input_spec
from simulator.torchkit.pacer import Pacer, clock
from simulator.torchkit.plan import (
    SPAN_COLUMNS,
    RunPlan,
    plan_dict,
    plan_from_dict,
    summary,
    write_spans,
)
from simulator.torchkit.training import (
    TrainConfig,
    TrainState,
    build_state,
    cloud_step,
    cloud_step_detached,
    edge_backward,
    edge_forward,
    edge_step,
)
from simulator.torchkit.transport import (
    CLOUD_RANK,
    EDGE_RANK,
    Inbox,
    Kind,
    LinkReceiver,
    LinkSender,
    LinkStalled,
    Message,
    PeerFailure,
)
from simulator.units import BYTES_PER_FP32

DISTINCT_BATCHES = 4
"""Random input batches made once and cycled."""

CLOCK_SYNC_ROUNDS = 8
"""Ping-pongs that estimate the clock offset between two machines (the fastest one is used)."""

KINDS: tuple[str, ...] = ("fwd", "exit", "bwd", "send")

EXIT_FAILED = 3
"""Exit status of a role that stopped because its peer or the link failed."""

OPTIMIZERS = {"sgd": ("sgd", 0.0), "sgd_momentum": ("sgd", 0.9), "adam": ("adam", 0.9)}
"""Scenario optimizer → (training optimizer, momentum / Adam β1)."""


def train_config(plan: RunPlan) -> TrainConfig:
    """The training configuration of the plan (constant learning rate, no augmentation)."""
    optimizer, momentum = OPTIMIZERS[plan.optimizer]
    return TrainConfig(
        model=plan.spec.model, split=plan.split, scheme=plan.scheme,  # type: ignore[arg-type]
        input_name=plan.spec.input_name, width=plan.spec.width,
        head_channels=plan.spec.head_channels, head_kernel_size=plan.spec.head_kernel_size,
        optimizer=optimizer, momentum=momentum, lr=0.01, schedule="constant",  # type: ignore[arg-type]
        batch_size=plan.batch_size, epochs=1, seed=plan.seed, crop_padding_px=0, flip=False,
        threads=1,
    )


# --------------------------------------------------------------------------------------------
# Spans


def spans_to_tensor(spans: list[Span]) -> torch.Tensor:
    """Spans as an (n, 7) float64 tensor (resource and kind as indices), to send."""
    rows = [[RESOURCES.index(s.resource), KINDS.index(s.kind), s.epoch, s.batch, s.start_s,
             s.end_s, s.device] for s in spans]
    return torch.tensor(rows, dtype=torch.float64).reshape(-1, len(SPAN_COLUMNS))


def spans_from_tensor(tensor: torch.Tensor) -> list[Span]:
    return [Span(RESOURCES[int(r[0])], KINDS[int(r[1])], int(r[2]), int(r[3]), r[4], r[5],
                 int(r[6])) for r in tensor.tolist()]


class SpanLog:
    """The spans of one role: kept in memory and appended to a CSV file as they happen.

    Spans are recorded on this process's clock and stored relative to the run's origin on the
    edge's clock: ``stored = local + offset_s - origin_s``. Thread-safe (link threads record too).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.spans: list[Span] = []
        self.offset_s = 0.0
        self.origin_s = math.nan
        self.lock = threading.Lock()
        self.handle: TextIO = path.open("w", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(SPAN_COLUMNS)
        self.handle.flush()

    def start(self, origin_s: float, offset_s: float) -> None:
        """Set the origin (edge clock) and this process's offset to the edge clock."""
        self.origin_s, self.offset_s = origin_s, offset_s

    def record(self, span: Span) -> None:
        shift = self.offset_s - self.origin_s
        span = span._replace(start_s=span.start_s + shift, end_s=span.end_s + shift)
        with self.lock:
            self.spans.append(span)
            self.writer.writerow(span)
            self.handle.flush()

    def add(self, resource: str, kind: str, batch: int, start_s: float, end_s: float) -> None:
        self.record(Span(resource, kind, 0, batch, start_s, end_s))

    def close(self) -> None:
        with self.lock:
            self.handle.close()


# --------------------------------------------------------------------------------------------
# Timed steps


class Marks:
    """Time stamps taken by the hooks during one step, and the hand-over to call after the
    edge forward (HT with ``send_after = "forward"``)."""

    def __init__(self) -> None:
        self.fwd_end_s = math.nan
        self.handed_s = math.nan
        self.cut_grad_s = math.nan
        self.on_cut: Callable[[torch.Tensor], None] | None = None

    def reset(self) -> None:
        self.fwd_end_s = self.handed_s = self.cut_grad_s = math.nan


def install_hooks(parts_edge: nn.Module, parts_cloud: nn.Module, marks: Marks) -> None:
    """Hooks that time-stamp the stage boundaries inside the shared step functions."""

    def on_grad(grad: torch.Tensor) -> None:
        marks.cut_grad_s = clock()

    def after_edge(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        marks.fwd_end_s = clock()
        if marks.on_cut is not None:
            marks.on_cut(output)
        marks.handed_s = clock()
        if output.requires_grad:
            output.register_hook(on_grad)

    def after_cloud(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        marks.fwd_end_s = clock()

    parts_edge.register_forward_hook(after_edge)
    parts_cloud.register_forward_hook(after_cloud)


def random_batches(plan: RunPlan) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:data:`DISTINCT_BATCHES` random (inputs, labels) batches of the model's input."""
    spec = input_spec(plan.spec.input_name)
    generator = torch.Generator().manual_seed(plan.seed)
    return [(torch.randn(plan.batch_size, *spec.shape, generator=generator),
             torch.randint(0, spec.num_classes, (plan.batch_size,), generator=generator))
            for _ in range(DISTINCT_BATCHES)]


def cut_shape(plan: RunPlan, edge: nn.Module) -> tuple[int, ...]:
    """Shape of the cut tensor of one batch, from one real sample through the edge part (a
    meta-device pass costs seconds the first time in a process)."""
    training = edge.training
    edge.eval()
    with torch.no_grad():
        sample = edge(torch.zeros(1, *input_spec(plan.spec.input_name).shape))
    edge.train(training)
    return (plan.batch_size, *sample.shape[1:])


def check_profile(plan: RunPlan, edge: nn.Module, activation_bytes: float) -> None:
    """The profile must describe this model: same cut tensor size (else a wrong meta.json)."""
    shape = cut_shape(plan, edge)
    cut_bytes = math.prod(shape[1:]) * BYTES_PER_FP32
    if cut_bytes != activation_bytes:
        raise InputError(f"the profile's activation_bytes at split {plan.split} "
                         f"({activation_bytes:g}) do not match {plan.spec.model} at width "
                         f"{plan.spec.width:g} ({cut_bytes}): wrong .meta.json?")


class LocalSteps:
    """One side's training steps on random data, without any channel: the warm-up before time
    0 and the calibration's timed segments.

    :meth:`step` runs one step of ``side`` for ``plan.scheme`` with the shared step functions
    (the edge's SL step gets a random gradient instead of the cloud's) and returns the seconds of
    each stage, as the hooks saw them: ``[("fwd", s), ("exit", s), ("bwd", s)]`` or
    ``[("fwd", s), ("bwd", s)]``. With ``state`` and ``marks`` given (a measured run's), the
    steps train that state and use its hooks; otherwise a fresh state is built.
    """

    def __init__(self, side: str, plan: RunPlan, state: TrainState | None = None,
                 marks: Marks | None = None) -> None:
        self.side = side
        self.plan = plan
        self.state = state if state is not None else build_state(train_config(plan))
        if marks is None:
            marks = Marks()
            install_hooks(self.state.parts.edge, self.state.parts.cloud, marks)
        self.marks = marks
        self.data = random_batches(plan)
        generator = torch.Generator().manual_seed(plan.seed + 1)
        shape = cut_shape(plan, self.state.parts.edge)
        self.cuts = [torch.randn(shape, generator=generator) for _ in range(2)]
        self.count = 0

    def step(self) -> list[tuple[str, float]]:
        parts, state, marks = self.state.parts, self.state, self.marks
        x, labels = self.data[self.count % len(self.data)]
        other = self.cuts[self.count % len(self.cuts)]
        self.count += 1
        marks.reset()
        start_s = clock()
        if self.side == "edge" and self.plan.scheme == "ht":
            edge_step(parts.edge, parts.exit_head, state.edge_optimizer, x, labels)
            end_s = clock()
            return [("fwd", marks.fwd_end_s - start_s), ("exit", marks.cut_grad_s -
                                                         marks.fwd_end_s),
                    ("bwd", end_s - marks.cut_grad_s)]
        if self.side == "edge":
            cut = edge_forward(parts.edge, x)
            middle_s = clock()
            edge_backward(cut, other, state.edge_optimizer)
            return [("fwd", middle_s - start_s), ("bwd", clock() - middle_s)]
        if self.plan.scheme == "sl":
            cloud_step(parts.cloud, state.cloud_optimizer, other, labels)
        else:
            cloud_step_detached(parts.cloud, state.cloud_optimizer, other, labels)
        end_s = clock()
        return [("fwd", marks.fwd_end_s - start_s), ("bwd", end_s - marks.fwd_end_s)]


def warm_up(role: str, plan: RunPlan, state: TrainState, marks: Marks) -> None:
    """Untimed local steps so that first-call costs (kernel selection, allocator growth,
    optimizer state) are paid before time 0; the simulator has no start-up cost."""
    steps = LocalSteps(role, plan, state, marks)
    for _ in range(plan.warmup_batches):
        steps.step()


# --------------------------------------------------------------------------------------------
# The two programs


@dataclass
class Session:
    """One role's open connection: its threads, inbox and span log."""

    role: str
    plan: RunPlan
    state: TrainState
    log: SpanLog
    inbox: Inbox
    sender: LinkSender
    receiver: LinkReceiver
    marks: Marks


def _pacer(plan: RunPlan, role: str) -> Pacer | None:
    if plan.emulation != "pacer":
        return None
    rate_bps = plan.uplink_bps if role == "edge" else plan.downlink_bps
    return Pacer(rate_bps, plan.channel)


def _clock_offset(role: str, same_host: bool) -> float:
    """Offset of the cloud's clock to the edge's: edge time = cloud time + offset.

    On one machine both read ``CLOCK_MONOTONIC``: 0. Between machines: ping-pongs from the edge;
    the offset of the fastest round trip, assuming both directions took equally long (error at
    most half that round trip). The edge sends the result to the cloud; both return it.
    """
    if same_host:
        return 0.0
    buffer = torch.zeros(1, dtype=torch.float64)
    best_rtt_s, best_offset_s = math.inf, 0.0
    for _ in range(CLOCK_SYNC_ROUNDS):
        if role == "edge":
            sent_s = clock()
            dist.send(torch.tensor([sent_s], dtype=torch.float64), CLOUD_RANK)
            dist.recv(buffer, CLOUD_RANK)
            back_s = clock()
            if back_s - sent_s < best_rtt_s:
                best_rtt_s = back_s - sent_s
                best_offset_s = (sent_s + back_s) / 2 - float(buffer[0])
        else:
            dist.recv(buffer, EDGE_RANK)
            dist.send(torch.tensor([clock()], dtype=torch.float64), EDGE_RANK)
    if role == "edge":
        dist.send(torch.tensor([best_offset_s], dtype=torch.float64), CLOUD_RANK)
        return best_offset_s
    dist.recv(buffer, EDGE_RANK)
    return float(buffer[0])


def open_session(role: str, plan: RunPlan, state: TrainState, out: Path,
                 same_host: bool) -> Session:
    """Synchronise with the peer, fix time 0 and start the link threads."""
    log = SpanLog(out / f"{role}_spans.csv")
    marks = Marks()
    install_hooks(state.parts.edge, state.parts.cloud, marks)
    warm_up(role, plan, state, marks)
    dist.barrier()
    offset_s = _clock_offset(role, same_host)
    start = torch.zeros(1, dtype=torch.float64)
    if role == "edge":
        origin_s = clock()
        start[0] = origin_s
        dist.send(start, CLOUD_RANK)
    else:
        dist.recv(start, EDGE_RANK)
        origin_s = float(start[0])
    # Stored spans are on the edge's clock (the cloud adds the offset); each receiver converts
    # its peer's stamps to its own clock: the edge adds the offset, the cloud subtracts it.
    log.start(origin_s, offset_s if role == "cloud" else 0.0)
    inbox = Inbox(plan.stall_timeout_s)
    peer = CLOUD_RANK if role == "edge" else EDGE_RANK
    sender = LinkSender(peer, _pacer(plan, role), inbox,
                        name="uplink-sender" if role == "edge" else "downlink-sender")
    receiver = LinkReceiver(
        peer, inbox, "downlink" if role == "edge" else "uplink",
        plan.latency_s if plan.adds_latency else 0.0,
        offset_s=offset_s if role == "edge" else -offset_s,
        last=Kind.SPANS if role == "edge" else Kind.END, record=log.record,
    )
    sender.start()
    receiver.start()
    return Session(role, plan, state, log, inbox, sender, receiver, marks)


def _payload_bytes(*tensors: torch.Tensor) -> float:
    return float(sum(t.numel() * t.element_size() for t in tensors))


def run_edge(session: Session) -> list[Span]:
    """The edge's batches; returns the cloud's spans, received after the timed part."""
    plan, state, log, marks = session.plan, session.state, session.log, session.marks
    parts = state.parts
    data = random_batches(plan)
    in_flight = 0

    def take_slot() -> None:
        nonlocal in_flight
        while in_flight >= plan.window:
            session.inbox.get([Kind.ACK])
            in_flight -= 1
        in_flight += 1

    for k in range(plan.batches):
        x, labels = data[k % len(data)]
        marks.reset()
        if plan.scheme == "sl":
            start_s = clock()
            cut = edge_forward(parts.edge, x)
            log.add("edge", "fwd", k, start_s, clock())
            sent = cut.detach()
            session.sender.hand_over(Message(Kind.DATA, k, (sent, labels),
                                             _payload_bytes(sent, labels)))
            reply = session.inbox.get([Kind.GRAD])
            start_s = clock()
            edge_backward(cut, reply.tensors[0], state.edge_optimizer)
            log.add("edge", "bwd", k, start_s, clock())
            continue

        def hand_over(cut: torch.Tensor, batch: int = k, labels: torch.Tensor = labels) -> None:
            take_slot()
            sent = cut.detach()
            session.sender.hand_over(Message(Kind.DATA, batch, (sent, labels),
                                             _payload_bytes(sent, labels)))

        marks.on_cut = hand_over if plan.send_after == "forward" else None
        start_s = clock()
        message = edge_step(parts.edge, parts.exit_head, state.edge_optimizer, x, labels)
        end_s = clock()
        exit_start_s = marks.handed_s if plan.send_after == "forward" else marks.fwd_end_s
        log.add("edge", "fwd", k, start_s, marks.fwd_end_s)
        log.add("edge", "exit", k, exit_start_s, marks.cut_grad_s)
        log.add("edge", "bwd", k, marks.cut_grad_s, end_s)
        if plan.send_after == "update":
            hand_over(message.activations)
    marks.on_cut = None
    while in_flight > 0:  # the last batches' acknowledgements (not timed: spans say when)
        session.inbox.get([Kind.ACK])
        in_flight -= 1
    session.sender.hand_over(Message(Kind.END, plan.batches))
    reply = session.inbox.get([Kind.SPANS])
    return spans_from_tensor(reply.tensors[0])


def run_cloud(session: Session) -> None:
    """The cloud's loop: train every batch that arrives, reply, then send its spans."""
    plan, state, log, marks = session.plan, session.state, session.log, session.marks
    parts = state.parts
    trained = 0
    while True:
        message = session.inbox.get([Kind.DATA, Kind.END])
        if message.kind == Kind.END:
            break
        activations, labels = message.tensors
        marks.reset()
        start_s = clock()
        if plan.scheme == "sl":
            reply = cloud_step(parts.cloud, state.cloud_optimizer, activations, labels)
            end_s = clock()
            session.sender.hand_over(Message(Kind.GRAD, message.batch, (reply.grad,),
                                             _payload_bytes(reply.grad)))
        else:
            cloud_step_detached(parts.cloud, state.cloud_optimizer, activations, labels)
            end_s = clock()
            session.sender.hand_over(Message(Kind.ACK, message.batch))
        log.add("cloud", "fwd", message.batch, start_s, marks.fwd_end_s)
        log.add("cloud", "bwd", message.batch, marks.fwd_end_s, end_s)
        trained += 1
    if trained != plan.batches:
        raise PeerFailure(f"protocol error: trained {trained} batches, expected {plan.batches}")
    session.sender.hand_over(Message(Kind.SPANS, -1, (spans_to_tensor(list(log.spans)),)))


# --------------------------------------------------------------------------------------------
# Running one role


class Phases:
    """Seconds spent in each phase of a role's run (for ``<role>.json``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last_s = clock()

    def mark(self, phase: str) -> None:
        now_s = clock()
        self.seconds[phase] = round(now_s - self.last_s, 3)
        self.last_s = now_s


@dataclass
class RoleResult:
    """How one role ended: ``status`` ``"ok"`` or ``"failed"`` with a one-line ``message``."""

    role: str
    status: str
    message: str
    spans: int


def _environment() -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "load_average_1min": round(os.getloadavg()[0], 2),
        **priority(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def raise_priority(nice: int) -> None:
    """Run this process at ``nice`` where allowed (root), against the machine's other work.

    Linux's autogroup scheduling (``kernel.sched_autogroup_enabled``) shares a CPU equally
    between sessions whatever their processes' nice values, so the process first becomes a
    session of its own (``setsid``: its own autogroup) and sets that autogroup's nice too.
    Without the permission, nothing changes.
    """
    with contextlib.suppress(OSError):
        os.setsid()  # fails harmlessly if already a session leader
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(f"{nice}\n")
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, nice)


def priority() -> dict[str, Any]:
    """This process's nice value and its autogroup's (for the run's metadata)."""
    autogroup = ""
    with contextlib.suppress(OSError):
        autogroup = Path("/proc/self/autogroup").read_text().strip()
    return {"nice": os.getpriority(os.PRIO_PROCESS, 0), "autogroup": autogroup}


def pin(cpu: int | None, nice: int | None = None) -> None:
    """One compute thread per process, on ``cpu`` when given, at priority ``nice`` when allowed
    (:func:`raise_priority`); threads started later inherit both."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    if nice is not None:
        raise_priority(nice)
    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # already set (a second run in one process)
        torch.set_num_interop_threads(1)


@dataclass(frozen=True)
class Job:
    """One measured run for a role process: the plan and the output folder."""

    plan: RunPlan
    out: Path

    def to_json(self) -> str:
        return json.dumps({"plan": plan_dict(self.plan), "out": str(self.out)})

    @staticmethod
    def from_json(text: str) -> Job:
        data = json.loads(text)
        return Job(plan_from_dict(data["plan"]), Path(data["out"]))


def open_group(role: str, master: str, timeout_s: float) -> None:
    """Join the two-rank gloo group; the cloud (rank 0) listens on ``master`` (host:port).

    ``timeout_s`` bounds collective waits (the barriers); sends and receives use each run's
    stall timeout.
    """
    rank = CLOUD_RANK if role == "cloud" else EDGE_RANK
    dist.init_process_group("gloo", init_method=f"tcp://{master}", rank=rank, world_size=2,
                            timeout=dt.timedelta(seconds=timeout_s))


def run_job(role: str, job: Job, same_host: bool = True,
            say: Callable[[str], None] = print) -> RoleResult:
    """One side of one measured run, inside an open gloo group; writes its files under
    ``job.out``.

    On success the edge writes ``spans.csv`` (both sides) and ``measured.json``. On a peer or
    link failure the role writes ``<role>.json`` with the message and returns ``"failed"``; the
    process should then leave with ``os._exit`` (gloo's teardown can block on a dead peer).
    """
    plan, out = job.plan, job.out
    phases = Phases()
    out.mkdir(parents=True, exist_ok=True)
    state = build_state(train_config(plan))
    check_profile(plan, state.parts.edge, plan.activation_bytes)
    phases.mark("model")
    meta: dict[str, Any] = {"role": role, "plan": plan_dict(plan), "environment": _environment(),
                            "phases_s": phases.seconds}
    session: Session | None = None
    try:
        session = open_session(role, plan, state, out, same_host)
        phases.mark("warmup_and_sync")
        if role == "edge":
            cloud_spans = run_edge(session)
        else:
            run_cloud(session)
        session.sender.close()
        session.sender.join(plan.stall_timeout_s)
        session.receiver.join(plan.stall_timeout_s)
        dist.barrier()
        phases.mark("run")
    except (PeerFailure, LinkStalled, RuntimeError) as error:
        text = " ".join(str(error).split())[:300]
        kept = len(session.log.spans) if session is not None else 0
        if session is not None:
            session.log.close()
        meta.update(status="failed", message=text, spans=kept)
        (out / f"{role}.json").write_text(json.dumps(meta, indent=2) + "\n")
        say(f"measure ({role}): stopped: {text}; kept {kept} spans in "
            f"{out / f'{role}_spans.csv'}")
        return RoleResult(role, "failed", text, kept)
    session.log.close()
    meta.update(status="ok", message="", spans=len(session.log.spans))
    meta["environment_end"] = _environment()
    (out / f"{role}.json").write_text(json.dumps(meta, indent=2) + "\n")
    if role == "edge":
        spans = sorted(session.log.spans + cloud_spans, key=lambda s: (s.start_s, s.resource))
        write_spans(out / "spans.csv", spans)
        (out / "measured.json").write_text(json.dumps(
            {**summary(plan, spans), "plan": plan_dict(plan)}, indent=2) + "\n")
    return RoleResult(role, "ok", "", len(session.log.spans))


def serve(role: str, master: str, jobs: Iterable[Job], timeout_s: float,
          report: Callable[[RoleResult], None], same_host: bool = True, cpu: int | None = None,
          say: Callable[[str], None] = print, nice: int | None = None) -> bool:
    """Join the group once, then run ``jobs`` one after another (the launcher's persistent
    processes); ``report`` gets each result. Stops at the first failure; returns success.
    ``nice``: scheduling priority of this process (see :func:`pin`)."""
    pin(cpu, nice)
    open_group(role, master, timeout_s)
    for job in jobs:
        result = run_job(role, job, same_host, say)
        report(result)
        if result.status != "ok":
            return False
    return True
