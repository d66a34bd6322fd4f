"""Kernel shaping: edge and cloud in two network namespaces joined by a veth pair with ``tbf``.

Layout of one shaped link (``N`` = a name unique to the owning process and link)::

    namespace ecsim-<pid>-<n>-edge            namespace ecsim-<pid>-<n>-cloud
      veth <N>e 10.77.0.1/30  ── veth pair ──   veth <N>c 10.77.0.2/30
      egress: tbf at uplink_bps                 egress: tbf at downlink_bps

Each direction is shaped on the sending side's egress, so the edge → cloud direction runs at the
uplink rate and the cloud → edge direction at the downlink rate. ``netem`` is not available on
these machines, so the link adds no propagation delay: the measured runtime adds the one-way
latency in-process at the receiver (:mod:`simulator.torchkit.transport`). TCP therefore sees a
short round trip (its window never limits the rate) and the latency is paid exactly once per
message, as in the simulator.

What the wire carries: TCP over IPv4 with timestamps on a 1500-byte MTU puts 1448 payload bytes in
each segment, and ``tbf`` counts the whole Ethernet frame, 1448 + 32 (TCP) + 20 (IP) + 14
(Ethernet) = 1514 bytes. Scenarios of tc runs must therefore say ``packet_payload_bytes = 1448``
and ``packet_overhead_bytes = 66`` (:data:`TC_PACKET_PAYLOAD_BYTES`,
:data:`TC_PACKET_OVERHEAD_BYTES`): 4.56 % on top of the payload, which is what TCP transfers over
these links measure (4.5–4.8 %).

The run creates the namespaces and ALWAYS removes them (:class:`ShapedLink` is a context
manager; removal runs on exceptions and on SIGTERM via the caller's signal handling). Namespaces
left behind by a process that was killed outright are removed by :func:`remove_stale` — only those
whose owning process no longer exists, so concurrent runs of other users are left alone.

This module does not import torch.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from simulator.units import BITS_PER_BYTE

PREFIX = "ecsim-"
"""Name prefix of every namespace this module creates: ``ecsim-<pid>-<n>-edge|cloud``."""

_NAME = re.compile(rf"^{re.escape(PREFIX)}(\d+)-(\d+)-(edge|cloud)$")

EDGE_ADDRESS = "10.77.0.1"
CLOUD_ADDRESS = "10.77.0.2"
PREFIX_LENGTH = 30

MTU_BYTES = 1500
TCP_HEADER_BYTES = 32
"""20-byte TCP header + 12 bytes of the timestamp option (on by default on Linux)."""
IPV4_HEADER_BYTES = 20
ETHERNET_HEADER_BYTES = 14
"""What ``tbf`` counts of a frame besides the IP packet (no preamble, no frame check)."""

TC_PACKET_PAYLOAD_BYTES = MTU_BYTES - IPV4_HEADER_BYTES - TCP_HEADER_BYTES
"""TCP payload per segment: 1448 bytes."""
TC_PACKET_OVERHEAD_BYTES = TCP_HEADER_BYTES + IPV4_HEADER_BYTES + ETHERNET_HEADER_BYTES
"""Bytes ``tbf`` counts beyond the payload per segment: 66."""

BURST_MIN_BYTES = 2 * (MTU_BYTES + ETHERNET_HEADER_BYTES)
"""Smallest ``tbf`` bucket: two full frames (a smaller bucket cannot pass a frame at all)."""
BURST_S = 0.001
"""The bucket also holds 1 ms at the shaped rate, so the kernel timer (hrtimer) resolution never
throttles the rate; a message after an idle period gains at most this much."""
QUEUE_S = 2.0
"""``tbf`` queue: two seconds at the shaped rate (at least 1 MiB), so TCP's congestion window
never overflows it and no segment is dropped (drops would cost retransmissions)."""
QUEUE_MIN_BYTES = 2**20

_counter = itertools.count()


class ShapingError(RuntimeError):
    """Kernel shaping could not be set up (the message says which command failed and why)."""


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why kernel shaping cannot run here, or ``None`` when it can: root, ``ip`` and ``tc``, and
    a probe namespace can be created (containers may lack the capability) — checked once."""
    if os.geteuid() != 0:
        return "not running as root"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"{tool} (iproute2) not found"
    probe = f"{PREFIX}{os.getpid()}-999999-edge"  # removed by remove_stale if left behind
    result = _run(["ip", "netns", "add", probe], check=False)
    _run(["ip", "netns", "del", probe], check=False)
    if result.returncode != 0:
        return f"cannot create a network namespace ({result.stderr.strip()})"
    return None


def _run(command: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(command), capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise ShapingError(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")
    return result


def list_namespaces() -> list[str]:
    """Names of all network namespaces (``ip netns list``), first word of each line."""
    result = _run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in result.stdout.splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Delete namespaces of this module whose owning process is gone; returns their names."""
    removed = []
    for name in list_namespaces():
        match = _NAME.match(name)
        if match and not _alive(int(match.group(1))):
            _run(["ip", "netns", "del", name], check=False)
            removed.append(name)
    return removed


def tbf_burst_bytes(rate_bps: float) -> int:
    """``tbf`` bucket size for a rate: :data:`BURST_S` at the rate, at least two frames."""
    return max(BURST_MIN_BYTES, round(rate_bps * BURST_S / BITS_PER_BYTE))


def tbf_limit_bytes(rate_bps: float) -> int:
    """``tbf`` queue length for a rate: :data:`QUEUE_S` at the rate, at least 1 MiB."""
    return max(QUEUE_MIN_BYTES, round(rate_bps * QUEUE_S / BITS_PER_BYTE))


def tbf_command(namespace: str, device: str, rate_bps: float, verb: str = "add") -> list[str]:
    """The ``tc`` command that shapes ``device``'s egress in ``namespace`` to ``rate_bps``
    (``verb``: ``add`` a new qdisc or ``change`` the existing one)."""
    return ["tc", "-n", namespace, "qdisc", verb, "dev", device, "root", "tbf",
            "rate", f"{round(rate_bps)}bit", "burst", str(tbf_burst_bytes(rate_bps)),
            "limit", str(tbf_limit_bytes(rate_bps))]


@dataclass
class ShapedLink:
    """Two namespaces and a shaped veth pair; ``with ShapedLink(up, down) as link:``.

    ``link.exec_prefix("edge")`` is the command prefix that runs a program in the edge's
    namespace; the cloud listens on :data:`CLOUD_ADDRESS`; ``link.device("edge")`` names the
    interface (gloo binds to it through ``GLOO_SOCKET_IFNAME``).
    """

    uplink_bps: float
    downlink_bps: float
    cpus: tuple[int | None, int | None] = (None, None)
    tag: str = field(default_factory=lambda: f"{os.getpid()}-{next(_counter)}")
    created: list[str] = field(default_factory=list)

    def namespace(self, role: str) -> str:
        return f"{PREFIX}{self.tag}-{role}"

    def device(self, role: str) -> str:
        pid, n = self.tag.split("-")
        return f"ecs{int(pid):x}{int(n):x}{role[0]}"  # ≤ 15 characters (IFNAMSIZ)

    def exec_prefix(self, role: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(role)]

    def address(self, role: str) -> str:
        return EDGE_ADDRESS if role == "edge" else CLOUD_ADDRESS

    def __enter__(self) -> ShapedLink:
        reason = unavailable_reason()
        if reason is not None:
            raise ShapingError(f"kernel shaping unavailable: {reason}")
        remove_stale()
        try:
            self._create()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.remove()

    def _create(self) -> None:
        edge, cloud = self.namespace("edge"), self.namespace("cloud")
        edge_dev, cloud_dev = self.device("edge"), self.device("cloud")
        for name in (edge, cloud):
            _run(["ip", "netns", "add", name])
            self.created.append(name)
            _run(["ip", "-n", name, "link", "set", "lo", "up"])
        # Created inside the edge namespace, so no interface ever appears in the root namespace.
        _run(["ip", "-n", edge, "link", "add", edge_dev, "type", "veth", "peer", "name",
              cloud_dev, "netns", cloud])
        for name, dev, address in ((edge, edge_dev, EDGE_ADDRESS), (cloud, cloud_dev,
                                                                      CLOUD_ADDRESS)):
            _run(["ip", "-n", name, "addr", "add", f"{address}/{PREFIX_LENGTH}", "dev", dev])
            _run(["ip", "-n", name, "link", "set", dev, "mtu", str(MTU_BYTES), "up"])
        _run(tbf_command(edge, edge_dev, self.uplink_bps))
        _run(tbf_command(cloud, cloud_dev, self.downlink_bps))
        for role, cpu in zip(("edge", "cloud"), self.cpus, strict=True):
            if cpu is not None:
                self._steer_receive(role, cpu)

    def _steer_receive(self, role: str, cpu: int) -> None:
        """Process the packets ``role`` receives on ``cpu`` (receive packet steering).

        A veth pair hands a sent packet to the peer's receive path on the sending CPU, so
        without steering the edge's CPU would also run the cloud's TCP receive processing of
        every uplink segment (and the cloud's the edge's downlink): work a real cloud server does
        on its own CPU. Best effort: kernels without RPS keep the default.
        """
        path = f"/sys/class/net/{self.device(role)}/queues/rx-0/rps_cpus"
        _run(["ip", "netns", "exec", self.namespace(role), "sh", "-c",
              f"echo {1 << cpu:x} > {path}"], check=False)

    def set_rates(self, uplink_bps: float, downlink_bps: float) -> None:
        """Change both directions' rates in place (between runs; the link should be idle)."""
        _run(tbf_command(self.namespace("edge"), self.device("edge"), uplink_bps, "change"))
        _run(tbf_command(self.namespace("cloud"), self.device("cloud"), downlink_bps, "change"))
        self.uplink_bps, self.downlink_bps = uplink_bps, downlink_bps

    def remove(self) -> None:
        """Delete both namespaces (the veth pair goes with them); safe to call twice."""
        while self.created:
            name = self.created.pop()
            with contextlib.suppress(OSError):
                _run(["ip", "netns", "del", name], check=False)

    def qdisc_stats(self, role: str) -> str:
        """``tc -s qdisc`` of one side (bytes, packets, drops), for the run's metadata."""
        result = _run(["tc", "-s", "-n", self.namespace(role), "qdisc", "show", "dev",
                       self.device(role)], check=False)
        return result.stdout.strip()
