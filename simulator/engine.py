"""Discrete-event model of one edge device, its channel and the cloud server (SimPy).

Processes only sequence work and contend for resources; every duration comes from
:mod:`simulator.costs` through :mod:`simulator.schedule`. The model, per epoch:

* **Edge** (one process): computes each batch. In split learning it then waits for the gradient;
  in hierarchical training it hands the batch to the uplink and goes on.
* **Uplink / downlink** (:class:`Link`): a message occupies the link for its serialisation time,
  FIFO; propagation latency delays its arrival but does not occupy the link, so several messages
  can be in flight.
* **Cloud** (one process in pipelined schemes): trains on batches in arrival order.
* **In-flight window** (pipelined schemes): a batch takes one of ``max_batches_in_flight`` slots
  when the edge hands it to the uplink and frees it when the cloud's acknowledgement reaches the
  edge, one latency after the cloud finished it (acknowledgements are too small to occupy the
  link). The edge blocks while no slot is free.

Each epoch starts with empty queues once the previous epoch has ended on both sides (as when both
exits are evaluated after every epoch); the time of that notification is neglected.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from simulator.costs import BatchCosts, dataset_upload_bytes, serialization_s, wire_bytes
from simulator.records import Span
from simulator.scenario import Channel, Scenario
from simulator.schedule import EpochWork, edge_parts

Process = Generator[simpy.Event, Any, None]


class Recorder:
    """Collects spans and per-resource busy time; zero-length work is not recorded."""

    def __init__(self, keep_spans: bool) -> None:
        self.keep_spans = keep_spans
        self.spans: list[Span] = []
        self.busy_s: dict[str, float] = {}
        self.epoch = 0

    def add(self, resource: str, kind: str, batch: int, start_s: float, end_s: float) -> None:
        if end_s <= start_s:
            return
        self.busy_s[resource] = self.busy_s.get(resource, 0.0) + (end_s - start_s)
        if self.keep_spans:
            self.spans.append(Span(resource, kind, self.epoch, batch, start_s, end_s))

    def add_sequence(self, resource: str, start_s: float, parts: list[tuple[str, float]],
                     batch: int) -> None:
        """Record back-to-back spans that one timeout covered (e.g. fwd then bwd)."""
        t = start_s
        for kind, duration_s in parts:
            self.add(resource, kind, batch, t, t + duration_s)
            t += duration_s


class Link:
    """One direction of the channel: FIFO, one message serialised at a time."""

    def __init__(self, env: simpy.Environment, name: str, rate_bps: float, channel: Channel,
                 recorder: Recorder) -> None:
        self.env = env
        self.name = name
        self.rate_bps = rate_bps
        self.channel = channel
        self.recorder = recorder
        self.resource = simpy.Resource(env, capacity=1)
        self.payload_bytes = 0.0
        self.wire_bytes = 0.0
        self.queued = 0
        self.peak_queued = 0

    def hand_over(self) -> None:
        """Count a message as waiting for this link (for the peak queue length)."""
        self.queued += 1
        self.peak_queued = max(self.peak_queued, self.queued)

    def transmit(self, payload_bytes: float, batch: int, handed_over: bool = False) -> Process:
        """Occupy the link for the message's serialisation time (waits while it is busy).

        ``handed_over``: the message was already counted by :meth:`hand_over` when it was queued.
        """
        if not handed_over:
            self.hand_over()
        with self.resource.request() as request:
            yield request
            start_s = self.env.now
            yield self.env.timeout(serialization_s(payload_bytes, self.rate_bps, self.channel))
            self.recorder.add(self.name, "send", batch, start_s, self.env.now)
        self.queued -= 1
        self.payload_bytes += payload_bytes
        self.wire_bytes += wire_bytes(payload_bytes, self.channel)


class EpochModel:
    """The SimPy processes of one run: ``run`` simulates every epoch of one scheme."""

    def __init__(self, scenario: Scenario, work: EpochWork, keep_spans: bool) -> None:
        self.scenario = scenario
        self.work = work
        self.env = simpy.Environment()
        self.recorder = Recorder(keep_spans)
        channel = scenario.channel
        self.uplink = Link(self.env, "uplink", channel.uplink_bps, channel, self.recorder)
        self.downlink = Link(self.env, "downlink", channel.down_bps, channel, self.recorder)
        self.latency_s = channel.latency_s
        self.epoch_s: list[float] = []
        self.peak_in_flight = 0

    def run(self) -> list[float]:
        """Simulate all epochs; returns the duration of each in seconds."""
        self.env.process(self._epochs())
        self.env.run()
        return self.epoch_s

    def _epochs(self) -> Process:
        for epoch in range(self.scenario.workload.epochs):
            self.recorder.epoch = epoch
            start_s = self.env.now
            yield self.env.all_of(self._epoch_processes(epoch))
            self.epoch_s.append(self.env.now - start_s)

    def _epoch_processes(self, epoch: int) -> list[simpy.Process]:
        env, work = self.env, self.work
        batches = work.batches()
        if work.local:
            return [env.process(self._edge_local(batches))]
        if work.scheme == "sl":
            return [env.process(self._split_learning(batches))]
        if work.pipelined:
            return self._pipeline(batches)
        return [env.process(self._cloud_from_dataset(batches, upload=epoch == 0))]

    def _compute(self, resource: str, batch: int, parts: list[tuple[str, float]]) -> Process:
        start_s = self.env.now
        yield self.env.timeout(sum(d for _, d in parts))
        self.recorder.add_sequence(resource, start_s, parts, batch)

    def _edge_local(self, batches: list[BatchCosts]) -> Process:
        for k, b in enumerate(batches):
            yield from self._compute("edge", k, [("fwd", b.edge_fwd_s), ("exit", b.exit_s),
                                                 ("bwd", b.edge_bwd_s)])

    def _split_learning(self, batches: list[BatchCosts]) -> Process:
        env = self.env
        for k, b in enumerate(batches):
            yield from self._compute("edge", k, [("fwd", b.edge_fwd_s)])
            yield from self.uplink.transmit(b.up_bytes, k)
            yield env.timeout(self.latency_s)
            yield from self._compute("cloud", k, [("fwd", b.cloud_fwd_s), ("bwd", b.cloud_bwd_s)])
            yield from self.downlink.transmit(b.down_bytes, k)
            yield env.timeout(self.latency_s)
            yield from self._compute("edge", k, [("bwd", b.edge_bwd_s)])

    def _cloud_from_dataset(self, batches: list[BatchCosts], upload: bool) -> Process:
        """Cloud-only with the data set uploaded once, before the first epoch."""
        if upload:
            yield from self.uplink.transmit(dataset_upload_bytes(self.scenario), -1)
            yield self.env.timeout(self.latency_s)
        for k, b in enumerate(batches):
            yield from self._compute("cloud", k, [("fwd", b.cloud_fwd_s), ("bwd", b.cloud_bwd_s)])

    def _pipeline(self, batches: list[BatchCosts]) -> list[simpy.Process]:
        env = self.env
        window = self.scenario.hierarchical.max_batches_in_flight
        slots = simpy.Container(env, capacity=window, init=window)
        radio_queue: simpy.Store = simpy.Store(env)
        arrivals: simpy.Store = simpy.Store(env)
        state = {"in_flight": 0}
        overlap = self.scenario.hierarchical.edge_computes_while_sending
        send_after = self.scenario.hierarchical.send_after

        def deliver(k: int, b: BatchCosts) -> None:
            def arrive(_: simpy.Event) -> None:
                arrivals.put((k, b))

            env.timeout(self.latency_s).callbacks.append(arrive)

        def acknowledge() -> None:
            def free_slot(_: simpy.Event) -> None:
                state["in_flight"] -= 1
                slots.put(1)

            env.timeout(self.latency_s).callbacks.append(free_slot)

        def edge() -> Process:
            for k, b in enumerate(batches):
                pre, post = edge_parts(b, send_after)
                yield from self._compute("edge", k, pre)
                yield slots.get(1)
                state["in_flight"] += 1
                self.peak_in_flight = max(self.peak_in_flight, state["in_flight"])
                if overlap:
                    self.uplink.hand_over()
                    radio_queue.put((k, b))
                else:
                    start_s = env.now
                    yield from self.uplink.transmit(b.up_bytes, k)
                    self.recorder.add("edge", "send", k, start_s, env.now)
                    deliver(k, b)
                yield from self._compute("edge", k, post)

        def radio() -> Process:
            for _ in batches:
                k, b = yield radio_queue.get()
                yield from self.uplink.transmit(b.up_bytes, k, handed_over=True)
                deliver(k, b)

        def cloud() -> Process:
            for _ in batches:
                k, b = yield arrivals.get()
                yield from self._compute("cloud", k, [("fwd", b.cloud_fwd_s),
                                                      ("bwd", b.cloud_bwd_s)])
                acknowledge()

        processes = [env.process(edge()), env.process(cloud())]
        if overlap:
            processes.append(env.process(radio()))
        return processes
