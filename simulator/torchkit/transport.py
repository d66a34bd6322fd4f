"""Messages between the edge and cloud processes of a measured run, over torch.distributed (gloo).

The two processes form a gloo group of two ranks (cloud = rank 0, edge = rank 1) over TCP. Each
direction of the channel is one :class:`LinkSender` thread on the sending side and one
:class:`LinkReceiver` thread on the receiving side, so compute never waits for the network unless
the protocol says so (SL waits for its gradient; HT only for a free in-flight slot).

A message is a fixed-size float64 header (:data:`HEADER_LEN` values: kind, batch, time stamps,
tensor dtypes and shapes) followed by its tensors, each a gloo send. What the link model counts is
``payload_bytes`` — the cut tensor and the labels, as in the simulator; the header (192 bytes)
and gloo's framing are real bytes on a shaped link but are not modelled (< 0.1 % of a batch).

Timing (all on :func:`~simulator.torchkit.pacer.clock`, converted to the receiver's clock with the
offset measured at start-up; 0 on one machine):

* **Link span** of a message, measured by the receiver: it starts when the message was handed to
  the link or when the previous message on this link finished, whichever is later (FIFO), and
  ends when its last byte has arrived. With the pacer, start and end are the pacer's booking and
  the end is never before the last byte arrived.
* **Delivery**: the receiver hands the message to its compute thread one one-way latency after
  the link span ends (:class:`LinkReceiver`); latency delays but does not occupy the link, as in
  the simulator. Propagation delay is in-process because ``netem`` is unavailable here.

Failure: a gloo error (peer closed the connection, or a send or receive not done within the stall
timeout) or a queue wait longer than the stall timeout ends the run with :class:`PeerFailure` /
:class:`LinkStalled`, one line each; the caller keeps its spans.
"""

from __future__ import annotations

import datetime as dt
import math
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

import torch
import torch.distributed as dist

from simulator.records import Span
from simulator.torchkit.pacer import Pacer, clock, sleep_until

CLOUD_RANK = 0
EDGE_RANK = 1
RANKS = {"cloud": CLOUD_RANK, "edge": EDGE_RANK}

MAX_TENSORS = 3
MAX_DIMS = 4
_FIXED = 6
_PER_TENSOR = 2 + MAX_DIMS
HEADER_LEN = _FIXED + MAX_TENSORS * _PER_TENSOR
"""float64 values per header: kind, batch, handover_s, link_start_s, link_end_s, tensor count,
then (dtype code, ndim, dim 0 … dim 3) per tensor."""

DTYPES: tuple[torch.dtype, ...] = (torch.float32, torch.int64, torch.float64)


class Kind(IntEnum):
    """What a message is."""

    DATA = 1  # edge → cloud: cut tensor and labels of one batch
    GRAD = 2  # cloud → edge (SL): gradient of the cut tensor
    ACK = 3  # cloud → edge (HT): the cloud has trained the batch (no payload)
    END = 4  # edge → cloud: no more batches
    SPANS = 5  # cloud → edge: the cloud's spans, after the timed part


class PeerFailure(RuntimeError):
    """The peer process closed the connection or the transport failed."""


class LinkStalled(RuntimeError):
    """No message arrived within the stall timeout."""


@dataclass
class Message:
    """One message: ``payload_bytes`` is what the link model counts (0 for control messages)."""

    kind: Kind
    batch: int
    tensors: tuple[torch.Tensor, ...] = ()
    payload_bytes: float = 0.0
    handover_s: float = math.nan
    link_start_s: float = math.nan
    link_end_s: float = math.nan


def encode_header(message: Message) -> torch.Tensor:
    """The message's header as a float64 tensor of :data:`HEADER_LEN` values."""
    if len(message.tensors) > MAX_TENSORS:
        raise ValueError(f"at most {MAX_TENSORS} tensors per message")
    values = [float(message.kind), float(message.batch), message.handover_s,
              message.link_start_s, message.link_end_s, float(len(message.tensors))]
    for tensor in message.tensors:
        if tensor.dim() > MAX_DIMS or tensor.dtype not in DTYPES:
            raise ValueError(f"cannot send a {tensor.dtype} tensor of shape {tuple(tensor.shape)}")
        dims = list(tensor.shape) + [0] * (MAX_DIMS - tensor.dim())
        values += [float(DTYPES.index(tensor.dtype)), float(tensor.dim()), *map(float, dims)]
    values += [0.0] * (HEADER_LEN - len(values))
    return torch.tensor(values, dtype=torch.float64)


def decode_header(header: torch.Tensor) -> tuple[Message, list[tuple[torch.dtype, list[int]]]]:
    """The message (without tensors) and the (dtype, shape) of each tensor that follows."""
    v = header.tolist()
    message = Message(Kind(int(v[0])), int(v[1]), handover_s=v[2], link_start_s=v[3],
                      link_end_s=v[4])
    specs = []
    for i in range(int(v[5])):
        base = _FIXED + i * _PER_TENSOR
        dtype, ndim = DTYPES[int(v[base])], int(v[base + 1])
        specs.append((dtype, [int(d) for d in v[base + 2: base + 2 + ndim]]))
    return message, specs


@dataclass
class _Failure:
    error: BaseException


class Inbox:
    """The messages a :class:`LinkReceiver` has received, for one consuming thread.

    Items are ``(deliver_at_s, message)`` in arrival order; :meth:`get` blocks until the next one
    is due. Any thread may :meth:`fail` the inbox; the consumer then gets the error.
    """

    def __init__(self, stall_timeout_s: float) -> None:
        self.items: queue.Queue[tuple[float, Message] | _Failure] = queue.Queue()
        self.stall_timeout_s = stall_timeout_s

    def put(self, deliver_at_s: float, message: Message) -> None:
        self.items.put((deliver_at_s, message))

    def fail(self, error: BaseException) -> None:
        self.items.put(_Failure(error))

    def get(self, expect: Sequence[Kind]) -> Message:
        """The next message once it is due; raises on failure, stall or an unexpected kind."""
        try:
            item = self.items.get(timeout=self.stall_timeout_s)
        except queue.Empty:
            raise LinkStalled(f"no message for {self.stall_timeout_s:g} s "
                              "(link stalled or peer hung)") from None
        if isinstance(item, _Failure):
            self.items.put(item)  # every later get fails the same way
            raise item.error
        deliver_at_s, message = item
        if message.kind not in expect:
            raise PeerFailure(f"protocol error: got {message.kind.name}, expected "
                              f"{'/'.join(k.name for k in expect)}")
        sleep_until(deliver_at_s)
        return message


def _describe(error: BaseException) -> str:
    """One line: gloo's messages are long and multi-line."""
    text = " ".join(str(error).split())
    if "Connection closed by peer" in text or "Connection reset" in text:
        return "connection closed by peer (the other process stopped)"
    if "Timed out" in text or "timed out" in text or "Timeout" in text:
        return "timed out waiting for the peer (link stalled or peer hung)"
    return f"{type(error).__name__}: {text[:200]}"


def send(tensor: torch.Tensor, peer: int, timeout: dt.timedelta) -> None:
    """Blocking gloo send that gives up after ``timeout`` (a stalled link or hung peer)."""
    work = dist.isend(tensor, peer)
    assert work is not None
    work.wait(timeout)


def recv(tensor: torch.Tensor, peer: int, timeout: dt.timedelta) -> None:
    """Blocking gloo receive into ``tensor`` that gives up after ``timeout``."""
    work = dist.irecv(tensor, peer)
    assert work is not None
    work.wait(timeout)


class LinkSender(threading.Thread):
    """Sends handed-over messages in FIFO order to ``peer`` (one direction of the channel).

    With a :class:`Pacer`, each message holds the link for its serialisation time (the thread
    sleeps until the pacer's end before the next message); without one, the kernel paces TCP
    (``tbf``) or the network is real. Errors go to ``inbox`` (the owning process's receiving
    inbox) so that the compute thread, which waits there, learns of them.
    """

    def __init__(self, peer: int, pacer: Pacer | None, inbox: Inbox, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.peer = peer
        self.timeout = dt.timedelta(seconds=inbox.stall_timeout_s)
        self.pacer = pacer
        self.inbox = inbox
        self.queue: queue.Queue[Message | None] = queue.Queue()
        self.failed = threading.Event()

    def hand_over(self, message: Message) -> None:
        """Queue ``message`` for the link, stamped with the hand-over time."""
        message.handover_s = clock()
        self.queue.put(message)

    def close(self) -> None:
        """Send what is queued, then stop the thread (returns at once)."""
        self.queue.put(None)

    def run(self) -> None:
        try:
            while (message := self.queue.get()) is not None:
                if self.pacer is not None:
                    message.link_start_s, message.link_end_s = self.pacer.reserve(
                        message.payload_bytes)
                send(encode_header(message), self.peer, self.timeout)
                for tensor in message.tensors:
                    send(tensor.contiguous(), self.peer, self.timeout)
                if self.pacer is not None:
                    sleep_until(message.link_end_s)
        except Exception as error:  # gloo raises RuntimeError; any error ends the run
            self.failed.set()
            self.inbox.fail(PeerFailure(f"sending: {_describe(error)}"))


class LinkReceiver(threading.Thread):
    """Receives messages from ``peer`` until one of kind ``last``; records their link spans.

    ``offset_s`` converts the peer's time stamps to this process's clock (local = peer +
    offset). ``latency_s`` is added in-process before delivery. ``resource`` names the link in
    the spans (``uplink`` or ``downlink``); control messages (no payload) record no span.
    """

    def __init__(self, peer: int, inbox: Inbox, resource: str, latency_s: float,
                 offset_s: float, last: Kind, record: Callable[[Span], None]) -> None:
        super().__init__(name=f"{resource}-receiver", daemon=True)
        self.peer = peer
        self.inbox = inbox
        self.resource = resource
        self.latency_s = latency_s
        self.offset_s = offset_s
        self.last = last
        self.record = record
        self.previous_end_s = -math.inf
        self.timeout = dt.timedelta(seconds=inbox.stall_timeout_s)

    def run(self) -> None:
        try:
            while True:
                header = torch.empty(HEADER_LEN, dtype=torch.float64)
                recv(header, self.peer, self.timeout)
                message, specs = decode_header(header)
                tensors = []
                for dtype, shape in specs:
                    tensor = torch.empty(shape, dtype=dtype)
                    recv(tensor, self.peer, self.timeout)
                    tensors.append(tensor)
                arrived_s = clock()
                message.tensors = tuple(tensors)
                end_s = self._span(message, arrived_s)
                self.inbox.put(end_s + self.latency_s, message)
                if message.kind == self.last:
                    return
        except Exception as error:
            self.inbox.fail(PeerFailure(f"receiving: {_describe(error)}"))

    def _span(self, message: Message, arrived_s: float) -> float:
        """Record the message's link span; returns its end on this process's clock."""
        if not math.isnan(message.link_start_s):  # paced: the sender booked the link
            start_s = message.link_start_s + self.offset_s
            end_s = max(arrived_s, message.link_end_s + self.offset_s)
        else:
            start_s = max(message.handover_s + self.offset_s, self.previous_end_s)
            end_s = arrived_s
        self.previous_end_s = end_s
        is_data = message.kind in (Kind.DATA, Kind.GRAD)
        if is_data and end_s > start_s:
            self.record(Span(self.resource, "send", 0, message.batch, start_s, end_s))
        return end_s
