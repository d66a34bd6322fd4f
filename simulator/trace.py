"""Timelines in the Chrome trace format (open in Perfetto or chrome://tracing)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulator.records import RESOURCES, Span

MICROSECONDS_PER_S = 1e6


def chrome_trace(spans_by_process: Mapping[str, Iterable[Span]]) -> dict[str, Any]:
    """One trace process per key (e.g. a scheme, or "measured"); one thread per resource and
    edge device (``uplink 1`` is device 1's uplink; a single device has plain names)."""
    events: list[dict[str, Any]] = []
    for pid, (process, spans) in enumerate(spans_by_process.items()):
        spans = list(spans)
        events.append({"name": "process_name", "ph": "M", "pid": pid,
                       "args": {"name": process}})
        devices = max((s.device for s in spans), default=0) + 1
        threads = [(r, d) for d in range(devices) for r in RESOURCES]
        for tid, (resource, device) in enumerate(threads):
            name = resource if devices == 1 else f"{resource} {device}"
            events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                           "args": {"name": name}})
        for span in spans:
            key = (span.resource, span.device)
            tid = threads.index(key) if key in threads else len(threads)
            events.append({
                "name": span.kind,
                "cat": span.resource,
                "ph": "X",
                "pid": pid,
                "tid": tid,
                "ts": span.start_s * MICROSECONDS_PER_S,
                "dur": span.duration_s * MICROSECONDS_PER_S,
                "args": {"epoch": span.epoch, "batch": span.batch, "device": span.device},
            })
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def write_chrome_trace(path: Path, spans_by_process: Mapping[str, Iterable[Span]]) -> None:
    """Write :func:`chrome_trace` as JSON to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chrome_trace(spans_by_process)))
