"""Discrete-event model (SimPy) of edge devices, their channel and the cloud server.

Processes only sequence work and contend for resources; every duration comes from
:mod:`simulator.costs` through :mod:`simulator.schedule`, and every message's timing from
:mod:`simulator.channel`. The model, per epoch:

* **Edge devices** (one process each): compute their batches. In split learning a device then
  waits for the gradient; in hierarchical training it hands the batch to its uplink and goes on.
* **Uplink / downlink** (:class:`Link`): a message occupies the link for its serialisation time,
  FIFO; propagation latency delays its arrival but does not occupy the link, so several messages
  can be in flight. Each device has its own links, or all share one uplink (``fleet``).
* **Cloud server**: one resource. In hierarchical training (and streamed cloud-only) one process
  trains the batches of every device in arrival order; in split learning each device's request
  holds the cloud for its forward and backward.
* **In-flight window** (pipelined schemes, per device): a batch takes one of
  ``max_batches_in_flight`` slots when the edge hands it to the uplink and frees it when the
  cloud's acknowledgement reaches the edge, one downlink propagation delay after the cloud
  finished it (acknowledgements are too small to occupy the link). The edge blocks while no slot
  is free.
* **Several devices in split learning**: ``sequential`` — one device after another, each handing
  its edge weights to the next through the cloud; ``parallel`` (SplitFed) — all at once, edge
  weights averaged through the cloud at the end of every epoch.

Each epoch starts with empty queues once the previous epoch has ended everywhere (as when both
exits are evaluated after every epoch); the time of that notification is neglected.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from simulator.channel import LinkTimeline, Outages, source_rng, transmissions_per_packet
from simulator.costs import BatchCosts, dataset_upload_bytes, wire_bytes
from simulator.records import Span
from simulator.scenario import Channel, Scenario, load_trace_cached
from simulator.schedule import EpochWork, edge_parts
from simulator.units import BITS_PER_BYTE

Process = Generator[simpy.Event, Any, Any]


class Recorder:
    """Collects spans, busy time per resource and device, and when each device last worked."""

    def __init__(self, keep_spans: bool, devices: int) -> None:
        self.keep_spans = keep_spans
        self.spans: list[Span] = []
        self.busy_s: dict[tuple[str, int], float] = {}
        self.last_end_s = [0.0] * devices
        self.epoch = 0

    def add(self, resource: str, kind: str, device: int, batch: int, start_s: float,
            end_s: float) -> None:
        """Record a span; zero-length work is not recorded."""
        if end_s <= start_s:
            return
        key = (resource, device)
        self.busy_s[key] = self.busy_s.get(key, 0.0) + (end_s - start_s)
        self.last_end_s[device] = max(self.last_end_s[device], end_s)
        if self.keep_spans:
            self.spans.append(Span(resource, kind, self.epoch, batch, start_s, end_s, device))

    def add_sequence(self, resource: str, device: int, batch: int, start_s: float,
                     parts: list[tuple[str, float]]) -> None:
        """Record back-to-back spans that one timeout covered (e.g. fwd then bwd)."""
        t = start_s
        for kind, duration_s in parts:
            self.add(resource, kind, device, batch, t, t + duration_s)
            t += duration_s

    def total_busy_s(self, resource: str) -> float:
        return sum(v for (r, _), v in self.busy_s.items() if r == resource)


class Mailbox:
    """FIFO hand-over to one receiving process; tokens in it make a counting semaphore.

    It does what ``simpy.Store`` does for a single receiver, with one event per item instead of
    two (a put never waits here): the in-flight window and the queues of every batch go through
    mailboxes, and this keeps a 1,563-batch epoch near the 50 ms target.
    """

    def __init__(self, env: simpy.Environment, items: Sequence[Any] = ()) -> None:
        self.env = env
        self.items: deque[Any] = deque(items)
        self.waiting: simpy.Event | None = None

    def put(self, item: Any) -> None:
        if self.waiting is not None:
            event, self.waiting = self.waiting, None
            event.succeed(item)
        else:
            self.items.append(item)

    def get(self) -> simpy.Event:
        """An event whose value is the next item (at once if one is waiting)."""
        event = self.env.event()
        if self.items:
            event.succeed(self.items.popleft())
        else:
            self.waiting = event
        return event


class Link:
    """One direction of the channel: FIFO, one message serialised at a time, in-order arrival.

    A ``shared`` link (several senders) queues messages on a SimPy resource; a link with one
    sender needs no queue, since that sender's process sends one message at a time.
    """

    def __init__(self, env: simpy.Environment, name: str, timeline: LinkTimeline,
                 channel: Channel, recorder: Recorder, jitter_rng: np.random.Generator,
                 loss_rng: np.random.Generator, shared: bool = False) -> None:
        self.env = env
        self.name = name
        self.timeline = timeline
        self.channel = channel
        self.recorder = recorder
        self.jitter_rng = jitter_rng
        self.loss_rng = loss_rng
        self.resource = simpy.Resource(env, capacity=1) if shared else None
        self.payload_bytes: dict[int, float] = {}
        self.wire_bytes: dict[int, float] = {}
        self.queued = 0
        self.peak_queued = 0
        self.last_arrival_s = 0.0

    def hand_over(self) -> None:
        """Count a message as waiting for this link (for the peak queue length)."""
        self.queued += 1
        self.peak_queued = max(self.peak_queued, self.queued)

    def _wire_and_rounds(self, payload_bytes: float) -> tuple[float, int]:
        """Bytes on the wire, retransmissions included, and rounds of retransmission."""
        size = wire_bytes(payload_bytes, self.channel)
        if self.channel.loss_rate == 0 or size == 0:
            return size, 0
        packets = math.ceil(payload_bytes / self.channel.packet_payload_bytes)
        sends = transmissions_per_packet(self.loss_rng, packets, self.channel.loss_rate)
        extra = int(sends.sum()) - packets
        return size + extra * size / packets, int(sends.max()) - 1

    def propagate(self) -> float:
        """Arrival time of something that leaves now: latency, jitter, never before the last."""
        delay = self.channel.latency_s
        if self.channel.jitter_s > 0:
            delay += self.jitter_rng.exponential(self.channel.jitter_s)
        self.last_arrival_s = max(self.env.now + delay, self.last_arrival_s)
        return self.last_arrival_s

    def send(self, payload_bytes: float, device: int, batch: int,
             handed_over: bool = False) -> Process:
        """Occupy the link for the message's serialisation; returns its arrival time (s).

        ``handed_over``: the message was already counted by :meth:`hand_over` when queued.
        """
        if not handed_over:
            self.hand_over()
        request = self.resource.request() if self.resource is not None else None
        if request is not None:
            yield request
        start_s = self.env.now
        size, rounds = self._wire_and_rounds(payload_bytes)
        bits = size * BITS_PER_BYTE
        if self.timeline.constant:
            assert self.timeline.rate_bps is not None
            duration_s = bits / self.timeline.rate_bps
        else:
            duration_s = self.timeline.finish_s(start_s, bits) - start_s
        yield self.env.timeout(duration_s)
        self.recorder.add(self.name, "send", device, batch, start_s, self.env.now)
        if request is not None:
            self.resource.release(request)  # type: ignore[union-attr]
        self.queued -= 1
        self.payload_bytes[device] = self.payload_bytes.get(device, 0.0) + payload_bytes
        self.wire_bytes[device] = self.wire_bytes.get(device, 0.0) + size
        if rounds:
            self.last_arrival_s = max(self.last_arrival_s,
                                      self.env.now + rounds * self.channel.retransmission_timeout_s)
        return self.propagate()


class Model:
    """The SimPy processes of one scheme of one scenario: :meth:`run` simulates every epoch.

    ``works`` holds each edge device's :class:`~simulator.schedule.EpochWork`.
    """

    def __init__(self, scenario: Scenario, works: list[EpochWork], keep_spans: bool) -> None:
        self.scenario = scenario
        self.works = works
        self.devices = len(works)
        self.env = simpy.Environment()
        self.recorder = Recorder(keep_spans, self.devices)
        self.cloud = simpy.Resource(self.env, capacity=1)
        self.epoch_s: list[float] = []
        self.peak_in_flight = 0
        self.uplinks, self.downlinks = self._links()

    def _links(self) -> tuple[list[Link], list[Link]]:
        channel, seed = self.scenario.channel, self.scenario.seed
        shared = self.scenario.fleet.shared_uplink

        def timeline(rate_bps: float | None, trace: Any, outages: Outages) -> LinkTimeline:
            return LinkTimeline(rate_bps, load_trace_cached(trace) if trace else None, outages)

        uplinks, downlinks = [], []
        for d in range(self.devices):
            outages = Outages(
                scheduled=list(channel.outage_windows_s),
                mean_interval_s=channel.outage_mean_interval_s,
                mean_duration_s=channel.outage_mean_duration_s,
                rng=source_rng(seed, "outages", 0 if shared else d),
            )
            if d == 0 or not shared:
                up_timeline = timeline(channel.uplink_bps, channel.uplink_trace, outages)
                uplinks.append(Link(self.env, "uplink", up_timeline, channel, self.recorder,
                                    source_rng(seed, "uplink_jitter", d),
                                    source_rng(seed, "uplink_loss", d),
                                    shared=shared and self.devices > 1))
            else:
                uplinks.append(uplinks[0])
            down_rate = channel.downlink_bps
            if down_rate is None and channel.downlink_trace is None:
                down_rate, down_trace = channel.uplink_bps, channel.uplink_trace
            else:
                down_trace = channel.downlink_trace
            downlinks.append(Link(self.env, "downlink", timeline(down_rate, down_trace, outages),
                                  channel, self.recorder, source_rng(seed, "downlink_jitter", d),
                                  source_rng(seed, "downlink_loss", d)))
        return uplinks, downlinks

    def run(self) -> list[float]:
        """Simulate all epochs; returns the duration of each in seconds."""
        self.env.process(self._epochs())
        self.env.run()
        return self.epoch_s

    @property
    def peak_uplink_queue(self) -> int:
        return max(link.peak_queued for link in self.uplinks)

    def _epochs(self) -> Process:
        for epoch in range(self.scenario.workload.epochs):
            self.recorder.epoch = epoch
            start_s = self.env.now
            yield self.env.all_of(self._epoch_processes(epoch))
            self.epoch_s.append(self.env.now - start_s)

    def _epoch_processes(self, epoch: int) -> list[simpy.Process]:
        env, work = self.env, self.works[0]
        devices = range(self.devices)
        if work.local:
            return [env.process(self._edge_local(d)) for d in devices]
        if work.scheme == "sl":
            if self.scenario.fleet.sl_mode == "sequential" or self.devices == 1:
                return [env.process(self._split_learning_in_turn())]
            return [env.process(self._split_fed())]
        if work.pipelined:
            return self._pipeline()
        return [env.process(self._cloud_from_dataset(upload=epoch == 0))]

    def _compute(self, resource: str, device: int, batch: int,
                 parts: list[tuple[str, float]]) -> Process:
        start_s = self.env.now
        yield self.env.timeout(sum(d for _, d in parts))
        self.recorder.add_sequence(resource, device, batch, start_s, parts)

    def _wait_until(self, time_s: float) -> simpy.Timeout:
        return self.env.timeout(max(0.0, time_s - self.env.now))

    def _edge_local(self, d: int) -> Process:
        for k, b in enumerate(self.works[d].batches()):
            yield from self._compute("edge", d, k, [("fwd", b.edge_fwd_s), ("exit", b.exit_s),
                                                    ("bwd", b.edge_bwd_s)])

    def _split_learning(self, d: int) -> Process:
        """One device's epoch of sequential split learning."""
        for k, b in enumerate(self.works[d].batches()):
            yield from self._compute("edge", d, k, [("fwd", b.edge_fwd_s)])
            arrival_s = yield from self.uplinks[d].send(b.up_bytes, d, k)
            yield self._wait_until(arrival_s)
            turn = self.cloud.request() if self.devices > 1 else None
            if turn is not None:  # one device: nobody else wants the cloud
                yield turn
            yield from self._compute("cloud", d, k, [("fwd", b.cloud_fwd_s),
                                                     ("bwd", b.cloud_bwd_s)])
            if turn is not None:
                self.cloud.release(turn)
            arrival_s = yield from self.downlinks[d].send(b.down_bytes, d, k)
            yield self._wait_until(arrival_s)
            yield from self._compute("edge", d, k, [("bwd", b.edge_bwd_s)])

    def _edge_weights_bytes(self) -> float:
        return self.scenario.profile.splits[self.scenario.split_index].edge_param_bytes

    def _relay_weights(self, sender: int, receiver: int) -> Process:
        """Edge weights from one device to another through the cloud."""
        arrival_s = yield from self.uplinks[sender].send(self._edge_weights_bytes(), sender, -1)
        yield self._wait_until(arrival_s)
        arrival_s = yield from self.downlinks[receiver].send(self._edge_weights_bytes(),
                                                             receiver, -1)
        yield self._wait_until(arrival_s)

    def _split_learning_in_turn(self) -> Process:
        """Vanilla split learning: devices train one after another, passing the edge weights."""
        for d in range(self.devices):
            yield from self._split_learning(d)
            if d + 1 < self.devices:
                yield from self._relay_weights(d, d + 1)

    def _split_fed(self) -> Process:
        """SplitFed: all devices at once, then their edge weights are averaged in the cloud."""
        env = self.env
        yield env.all_of([env.process(self._split_learning(d)) for d in range(self.devices)])

        def upload(d: int) -> Process:
            arrival_s = yield from self.uplinks[d].send(self._edge_weights_bytes(), d, -1)
            yield self._wait_until(arrival_s)

        def download(d: int) -> Process:
            arrival_s = yield from self.downlinks[d].send(self._edge_weights_bytes(), d, -1)
            yield self._wait_until(arrival_s)

        yield env.all_of([env.process(upload(d)) for d in range(self.devices)])
        yield env.all_of([env.process(download(d)) for d in range(self.devices)])

    def _cloud_from_dataset(self, upload: bool) -> Process:
        """Cloud-only with each device's data set uploaded once, before the first epoch."""
        env = self.env
        ready = Mailbox(env)

        def device(d: int) -> Process:
            if upload:
                arrival_s = yield from self.uplinks[d].send(dataset_upload_bytes(self.scenario),
                                                            d, -1)
                yield self._wait_until(arrival_s)
            for k, b in enumerate(self.works[d].batches()):
                ready.put((d, k, b))

        for d in range(self.devices):
            env.process(device(d))
        for _ in range(sum(w.count for w in self.works)):
            d, k, b = yield ready.get()
            yield from self._compute("cloud", d, k, [("fwd", b.cloud_fwd_s),
                                                     ("bwd", b.cloud_bwd_s)])

    def _pipeline(self) -> list[simpy.Process]:
        """Hierarchical training (or streamed cloud-only): every device streams to the cloud."""
        env = self.env
        arrivals = Mailbox(env)

        def deliver(item: tuple[int, int, BatchCosts], arrival_s: float) -> None:
            def arrive(_: simpy.Event) -> None:
                arrivals.put(item)

            env.timeout(arrival_s - env.now).callbacks.append(arrive)

        def cloud() -> Process:
            for _ in range(sum(w.count for w in self.works)):
                d, k, b = yield arrivals.get()  # one process: the cloud trains one batch at a time
                yield from self._compute("cloud", d, k, [("fwd", b.cloud_fwd_s),
                                                         ("bwd", b.cloud_bwd_s)])
                acknowledge(d)

        slots = [Mailbox(env, [None] * self._window) for _ in range(self.devices)]
        in_flight = [0] * self.devices

        def acknowledge(d: int) -> None:
            def free_slot(_: simpy.Event) -> None:
                in_flight[d] -= 1
                slots[d].put(None)

            ack_s = self.downlinks[d].propagate()
            env.timeout(ack_s - env.now).callbacks.append(free_slot)

        processes = [env.process(cloud())]
        for d in range(self.devices):
            radio_queue = Mailbox(env)
            processes.append(env.process(self._pipeline_edge(d, slots[d], in_flight,
                                                             radio_queue, deliver)))
            if self.scenario.hierarchical.edge_computes_while_sending:
                processes.append(env.process(self._radio(d, radio_queue, deliver)))
        return processes

    @property
    def _window(self) -> int:
        return self.scenario.hierarchical.max_batches_in_flight

    def _pipeline_edge(self, d: int, slots: Mailbox, in_flight: list[int],
                       radio_queue: Mailbox, deliver: Any) -> Process:
        overlap = self.scenario.hierarchical.edge_computes_while_sending
        send_after = self.scenario.hierarchical.send_after
        uplink = self.uplinks[d]
        for k, b in enumerate(self.works[d].batches()):
            before, after = edge_parts(b, send_after)
            yield from self._compute("edge", d, k, before)
            yield slots.get()
            in_flight[d] += 1
            self.peak_in_flight = max(self.peak_in_flight, in_flight[d])
            if overlap:
                uplink.hand_over()
                radio_queue.put((k, b))
            else:
                start_s = self.env.now
                arrival_s = yield from uplink.send(b.up_bytes, d, k)
                self.recorder.add("edge", "send", d, k, start_s, self.env.now)
                deliver((d, k, b), arrival_s)
            yield from self._compute("edge", d, k, after)

    def _radio(self, d: int, radio_queue: Mailbox, deliver: Any) -> Process:
        for _ in range(self.works[d].count):
            k, b = yield radio_queue.get()
            arrival_s = yield from self.uplinks[d].send(b.up_bytes, d, k, handed_over=True)
            deliver((d, k, b), arrival_s)
