"""Scenarios: workload × schemes × edge device × cloud server × channel, loaded from TOML.

A scenario file has top-level ``seed`` and ``schemes`` and one table per part::

    seed = 1
    schemes = ["sl", "ht", "cloud_only", "edge_only"]
    [workload]   profile, split, batch_size, samples_per_epoch, epochs, optimizer, activation_bits
    [edge]       fwd_flops_per_s, bwd_flops_per_s, step_overhead_s, memory_bytes
    [cloud]      (same keys as [edge])
    [channel]    uplink_bps, downlink_bps, latency_s, packet_payload_bytes, packet_overhead_bytes
    [hierarchical] max_batches_in_flight, send_after, edge_computes_while_sending
    [cloud_only] upload

Every key carries its unit. Loading checks every key's type and range, refuses unknown keys with a
"did you mean" hint, and reports each problem as one line naming the file and the key
(:class:`~simulator.errors.InputError`). Loading has no side effects. ``--set key=value`` overrides
are checked the same way. Relative paths in a file resolve against the file's folder; paths given
as overrides resolve against the current directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from simulator.channel import RateTrace, load_rate_trace
from simulator.errors import InputError
from simulator.profile import Profile, load_profile

SchemeName = Literal["sl", "ht", "cloud_only", "edge_only"]
SCHEME_NAMES: tuple[SchemeName, ...] = typing.get_args(SchemeName)
Optimizer = Literal["sgd", "sgd_momentum", "adam"]


def _positive(value: float) -> str | None:
    return None if value > 0 else "a number > 0"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "a number >= 0"


def _at_least_one(value: int) -> str | None:
    return None if value >= 1 else "an integer >= 1"


def _bits(value: int) -> str | None:
    return None if value in (8, 16, 32) else "one of 8, 16, 32"


def _probability(value: float) -> str | None:
    return None if 0 <= value < 1 else "a probability in [0, 1)"


def _windows(value: tuple[tuple[float, float], ...]) -> str | None:
    ok = all(0 <= start < end for start, end in value)
    return None if ok else "pairs [start_s, end_s] with 0 <= start_s < end_s"


def _all_positive(value: tuple[float, ...]) -> str | None:
    return None if all(v > 0 for v in value) else "numbers > 0"


def _key(check: Callable[[Any], str | None] | None = None, doc: str = "") -> dict[str, Any]:
    return {"check": check, "doc": doc}


@dataclass(frozen=True)
class Workload:
    """What is trained: the model's profile, the split point and the amount of data."""

    profile: Path = field(metadata=_key(doc="profile CSV, relative to the scenario file"))
    split: int | str = field(metadata=_key(doc="split point: index 0..n or its name"))
    batch_size: int = field(default=32, metadata=_key(_at_least_one, "samples per batch"))
    samples_per_epoch: int = field(default=50_000, metadata=_key(_at_least_one, "samples"))
    epochs: int = field(default=1, metadata=_key(_at_least_one, "passes over the data"))
    optimizer: Optimizer = field(
        default="sgd_momentum", metadata=_key(doc="sets optimizer state memory per parameter")
    )
    activation_bits: int = field(
        default=32, metadata=_key(_bits, "bits per element of the cut tensor as sent")
    )


@dataclass(frozen=True)
class Device:
    """A compute device: effective throughput, per-step overhead, memory and power.

    ``preset`` names an entry of :data:`simulator.presets.DEVICE_PRESETS`; keys given beside it
    override the preset's values.
    """

    fwd_flops_per_s: float = field(metadata=_key(_positive, "effective forward FLOP/s"))
    bwd_flops_per_s: float | None = field(
        default=None, metadata=_key(_positive, "effective backward FLOP/s (default: forward)")
    )
    step_overhead_s: float = field(
        default=0.0, metadata=_key(_non_negative, "fixed time per training step")
    )
    memory_bytes: float = field(
        default=math.inf, metadata=_key(_positive, "memory available for training")
    )
    busy_power_w: float | None = field(
        default=None, metadata=_key(_non_negative, "power while computing (energy needs it)")
    )
    idle_power_w: float = field(default=0.0, metadata=_key(_non_negative, "power while idle"))
    radio_tx_j_per_bit: float = field(
        default=0.0, metadata=_key(_non_negative, "radio energy per bit sent (edge)")
    )
    radio_rx_j_per_bit: float = field(
        default=0.0, metadata=_key(_non_negative, "radio energy per bit received (edge)")
    )
    preset: str | None = field(default=None, metadata=_key(doc="start from a device preset"))

    @property
    def backward_flops_per_s(self) -> float:
        return self.fwd_flops_per_s if self.bwd_flops_per_s is None else self.bwd_flops_per_s


@dataclass(frozen=True)
class Channel:
    """The link between edge and cloud.

    ``packet_payload_bytes`` and ``packet_overhead_bytes`` model protocol headers: each message is
    cut into packets of at most ``packet_payload_bytes`` and each packet carries
    ``packet_overhead_bytes`` more on the wire. The defaults are TCP/IPv4 with timestamps over a
    1500-byte MTU (1448 payload + 52 header bytes). Either a constant rate (``uplink_bps``) or a
    trace file (``uplink_trace``) gives each direction's rate; the downlink defaults to the
    uplink's. Jitter, loss and outages are described in :mod:`simulator.channel`. ``preset``
    names an entry of :data:`simulator.presets.CHANNEL_PRESETS`; keys given beside it override.
    """

    uplink_bps: float | None = field(default=None, metadata=_key(_positive, "edge → cloud rate"))
    downlink_bps: float | None = field(
        default=None, metadata=_key(_positive, "cloud → edge bit rate (default: uplink)")
    )
    uplink_trace: Path | None = field(
        default=None, metadata=_key(doc="CSV time_s,bps instead of uplink_bps (loops)")
    )
    downlink_trace: Path | None = field(
        default=None, metadata=_key(doc="CSV time_s,bps instead of downlink_bps (loops)")
    )
    latency_s: float = field(default=0.0, metadata=_key(_non_negative, "one-way propagation"))
    jitter_s: float = field(
        default=0.0, metadata=_key(_non_negative, "mean extra one-way delay (exponential)")
    )
    loss_rate: float = field(default=0.0, metadata=_key(_probability, "per-packet loss"))
    retransmission_timeout_s: float = field(
        default=0.2, metadata=_key(_non_negative, "delay added by each round of retransmission")
    )
    outage_windows_s: tuple[tuple[float, float], ...] = field(
        default=(), metadata=_key(_windows, "scheduled outages [[start_s, end_s], ...]")
    )
    outage_mean_interval_s: float | None = field(
        default=None, metadata=_key(_positive, "mean up time between random outages")
    )
    outage_mean_duration_s: float | None = field(
        default=None, metadata=_key(_positive, "mean length of a random outage")
    )
    packet_payload_bytes: int = field(
        default=1448, metadata=_key(_at_least_one, "payload bytes per packet")
    )
    packet_overhead_bytes: int = field(
        default=52, metadata=_key(_non_negative, "header bytes per packet")
    )
    preset: str | None = field(default=None, metadata=_key(doc="start from a channel preset"))

    @property
    def up_bps(self) -> float:
        """Constant uplink rate (the trace's mean rate when a trace is given)."""
        if self.uplink_bps is not None:
            return self.uplink_bps
        assert self.uplink_trace is not None
        return load_trace_cached(self.uplink_trace).mean_bps

    @property
    def down_bps(self) -> float:
        """Constant downlink rate (trace mean; the uplink's when neither is given)."""
        if self.downlink_bps is not None:
            return self.downlink_bps
        if self.downlink_trace is not None:
            return load_trace_cached(self.downlink_trace).mean_bps
        return self.up_bps

    @property
    def random(self) -> bool:
        """True when jitter, loss or random outages make the channel random."""
        return (self.jitter_s > 0 or self.loss_rate > 0
                or self.outage_mean_interval_s is not None)

    @property
    def time_varying(self) -> bool:
        """True when a trace or outages make the rate change over time."""
        return (self.uplink_trace is not None or self.downlink_trace is not None
                or bool(self.outage_windows_s) or self.outage_mean_interval_s is not None)


@dataclass(frozen=True)
class Fleet:
    """Several edge devices sharing one cloud server.

    ``edge_speed_factors`` scales each device's FLOP/s (length ``devices``; default all 1).
    ``shared_uplink``: all devices send over one uplink (e.g. one access point); otherwise each
    has its own. ``sl_mode``: ``"sequential"`` = vanilla split learning, the devices train one
    after another, each handing its edge weights to the next through the cloud; ``"parallel"`` =
    SplitFed-style, all devices at once with per-device cloud copies on one cloud server, and the
    edge weights averaged through the cloud after every epoch. Hierarchical training queues all
    devices' batches at the cloud; its edge models stay local.
    """

    devices: int = field(default=1, metadata=_key(_at_least_one, "number of edge devices"))
    edge_speed_factors: tuple[float, ...] = field(
        default=(), metadata=_key(_all_positive, "per-device FLOP/s multipliers")
    )
    shared_uplink: bool = field(default=False, metadata=_key(doc="one uplink for all devices"))
    sl_mode: Literal["sequential", "parallel"] = field(
        default="sequential", metadata=_key(doc="vanilla SL in turn, or SplitFed in parallel")
    )

    def speed_factor(self, device: int) -> float:
        return self.edge_speed_factors[device] if self.edge_speed_factors else 1.0


@dataclass(frozen=True)
class Hierarchical:
    """Options of early-exit hierarchical training (HT)."""

    max_batches_in_flight: int = field(
        default=4,
        metadata=_key(_at_least_one, "batches sent but not yet acknowledged by the cloud"),
    )
    send_after: Literal["forward", "update"] = field(
        default="forward", metadata=_key(doc="send after the edge forward or after its update")
    )
    edge_computes_while_sending: bool = field(
        default=True, metadata=_key(doc="false: the radio transmission occupies the edge")
    )


@dataclass(frozen=True)
class CloudOnly:
    """Options of the cloud-only baseline."""

    upload: Literal["once", "per_batch"] = field(
        default="once", metadata=_key(doc="whole data set before training, or each batch")
    )


@dataclass(frozen=True)
class Scenario:
    """One fully specified, validated scenario. ``profile`` is loaded and ``split`` resolved."""

    workload: Workload
    edge: Device
    cloud: Device
    channel: Channel
    hierarchical: Hierarchical = Hierarchical()
    cloud_only: CloudOnly = CloudOnly()
    fleet: Fleet = Fleet()
    schemes: tuple[SchemeName, ...] = SCHEME_NAMES
    seed: int = 0
    name: str = "scenario"
    source: str = field(default="<memory>", compare=False)
    profile: Profile = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    split_index: int = -1

    def with_profile(self) -> Scenario:
        """This scenario with its profile loaded and its split resolved (validates both)."""
        profile = cached_profile(self.workload.profile, self.source)
        index = profile.resolve_split(self.workload.split, f"{self.source}: workload.split")
        return dataclasses.replace(self, profile=profile, split_index=index)


SECTIONS: dict[str, type] = {
    "workload": Workload,
    "edge": Device,
    "cloud": Device,
    "channel": Channel,
    "hierarchical": Hierarchical,
    "cloud_only": CloudOnly,
    "fleet": Fleet,
}
TOP_LEVEL_KEYS = ("seed", "schemes", "name")


@functools.lru_cache(maxsize=64)
def _load_trace_cached(path: Path, mtime_ns: int) -> RateTrace:
    return load_rate_trace(path)


def load_trace_cached(path: Path) -> RateTrace:
    """Load a rate trace once per file version."""
    if not path.is_file():
        raise InputError(f"{path}: trace file not found")
    return _load_trace_cached(path.resolve(), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_profile_cached(path: Path, mtime_ns: int) -> Profile:
    return load_profile(path)


def cached_profile(path: Path, source: str) -> Profile:
    """Load a profile once per file version (sweeps reuse it across points)."""
    if not path.is_file():
        raise InputError(f"{source}: workload.profile: file not found: {path}")
    return _load_profile_cached(path.resolve(), path.stat().st_mtime_ns)


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """Resolved annotations of a scenario table (cached: sweeps build thousands of scenarios)."""
    return typing.get_type_hints(cls)


def _hint(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    suggestion = f"did you mean {close[0]!r}? " if close else ""
    return f"{suggestion}allowed: {', '.join(allowed)}"


def _describe(annotation: Any) -> str:
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    if annotation is str:
        return "a string"
    if annotation is Path:
        return "a file path"
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if args[-1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list [{', '.join(_describe(a) for a in args)}]"
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    return " or ".join(_describe(a) for a in options)


def _coerce(value: Any, annotation: Any, where: str, base_dir: Path) -> Any:
    """Check ``value`` against a field annotation; return it in the field's type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where, base_dir)
            except InputError:
                continue
        raise InputError(f"{where}: expected {_describe(annotation)}, got {value!r}")
    if origin is Literal:
        if value in typing.get_args(annotation) and isinstance(value, str | bool):
            return value
        raise InputError(f"{where}: expected {_describe(annotation)}, got {value!r}")
    if origin is tuple:
        item_type, *rest = typing.get_args(annotation)
        if not isinstance(value, list | tuple):
            raise InputError(f"{where}: expected {_describe(annotation)}, got {value!r}")
        if rest and rest[0] is not Ellipsis:  # a fixed-length pair
            if len(value) != len(typing.get_args(annotation)):
                raise InputError(f"{where}: expected {_describe(annotation)}, got {value!r}")
            return tuple(_coerce(v, t, where, base_dir)
                         for v, t in zip(value, typing.get_args(annotation), strict=True))
        return tuple(_coerce(v, item_type, where, base_dir) for v in value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isnan(value):
                raise InputError(f"{where}: expected a number, got nan")
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif annotation is Path and isinstance(value, str) and value:
        path = Path(value)
        return path if path.is_absolute() else base_dir / path
    raise InputError(f"{where}: expected {_describe(annotation)}, got {value!r}")


def _expand_preset(cls: type, table: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """The preset's keys, overridden by the keys given beside ``preset``."""
    name = table.get("preset")
    if name is None or cls not in (Device, Channel):
        return table
    from simulator import presets

    catalogue = presets.CHANNEL_PRESETS if cls is Channel else presets.DEVICE_PRESETS
    if name not in catalogue:
        raise InputError(f"{where}.preset: unknown preset {name!r}; "
                         f"{_hint(str(name), sorted(catalogue))}")
    return {**catalogue[name], **table}


def _check_section(section: Any, where: str) -> None:
    """Rules that involve more than one key of a table."""
    if isinstance(section, Channel):
        if (section.uplink_bps is None) == (section.uplink_trace is None):
            raise InputError(f"{where}.uplink_bps: give exactly one of uplink_bps and "
                             "uplink_trace")
        if section.downlink_bps is not None and section.downlink_trace is not None:
            raise InputError(f"{where}.downlink_bps: give at most one of downlink_bps and "
                             "downlink_trace")
        if (section.outage_mean_interval_s is None) != (section.outage_mean_duration_s is None):
            raise InputError(f"{where}.outage_mean_interval_s: give both "
                             "outage_mean_interval_s and outage_mean_duration_s, or neither")
        for trace in (section.uplink_trace, section.downlink_trace):
            if trace is not None:
                try:
                    load_trace_cached(trace)
                except InputError as exc:
                    raise InputError(f"{where}: {exc}") from None
    if (isinstance(section, Fleet) and section.edge_speed_factors
            and len(section.edge_speed_factors) != section.devices):
            raise InputError(f"{where}.edge_speed_factors: expected {section.devices} numbers "
                             f"(one per device), got {len(section.edge_speed_factors)}")


def _build_section(cls: type, table: Any, where: str, base_dir: Path) -> Any:
    if not isinstance(table, Mapping):
        raise InputError(f"{where}: expected a table of keys, got {table!r}")
    table = _expand_preset(cls, table, where)
    hints = field_types(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in known:
            raise InputError(f"{where}.{key}: unknown key; {_hint(key, known)}")
        value = _coerce(raw, hints[key], f"{where}.{key}", base_dir)
        check = next(f for f in dataclasses.fields(cls) if f.name == key).metadata.get("check")
        if check is not None and value is not None:
            problem = check(value)
            if problem:
                raise InputError(f"{where}.{key}: expected {problem}, got {raw!r}")
        values[key] = value
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for key in required:
        if key not in values:
            raise InputError(f"{where}.{key}: missing required key ({_describe(hints[key])})")
    section = cls(**values)
    _check_section(section, where)
    return section


def scenario_from_dict(
    data: Mapping[str, Any], source: str, base_dir: Path, *, load: bool = True
) -> Scenario:
    """Validate a parsed TOML mapping into a :class:`Scenario` (profile loaded if ``load``)."""
    allowed = list(TOP_LEVEL_KEYS) + list(SECTIONS)
    for key in data:
        if key not in allowed:
            raise InputError(f"{source}: {key}: unknown key; {_hint(key, allowed)}")
    for key in ("workload", "edge", "cloud", "channel"):
        if key not in data:
            raise InputError(f"{source}: [{key}]: missing table")
    parts = {
        name: _build_section(cls, data[name], f"{source}: {name}", base_dir)
        for name, cls in SECTIONS.items()
        if name in data
    }
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"{source}: seed: expected an integer >= 0, got {seed!r}")
    schemes = data.get("schemes", list(SCHEME_NAMES))
    if isinstance(schemes, str):
        schemes = [schemes]
    if not isinstance(schemes, list) or not schemes:
        raise InputError(f"{source}: schemes: expected a non-empty list, got {schemes!r}")
    for scheme in schemes:
        if scheme not in SCHEME_NAMES:
            raise InputError(
                f"{source}: schemes: unknown scheme {scheme!r}; "
                f"{_hint(str(scheme), list(SCHEME_NAMES))}"
            )
    name = data.get("name", Path(source).stem if source.endswith(".toml") else "scenario")
    if not isinstance(name, str):
        raise InputError(f"{source}: name: expected a string, got {name!r}")
    scenario = Scenario(
        **parts,
        schemes=tuple(dict.fromkeys(schemes)),
        seed=seed,
        name=name,
        source=source,
    )
    return scenario.with_profile() if load else scenario


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is one :class:`InputError` line."""
    if not path.is_file():
        raise InputError(f"{path}: scenario file not found")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


def parse_override(text: str, source: str = "--set") -> tuple[str, Any]:
    """Split ``section.key=value``; the value is read as a TOML value, else kept as a string."""
    if "=" not in text:
        raise InputError(f"{source} {text!r}: expected KEY=VALUE, e.g. channel.uplink_bps=2e6")
    key, raw = (part.strip() for part in text.split("=", 1))
    return key, parse_value(raw)


def parse_value(raw: str) -> Any:
    """A command-line value as TOML would read it (``2e6``, ``true``, ``[1, 2]``), else a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_overrides(
    data: dict[str, Any], overrides: Sequence[tuple[str, Any]], source: str = "--set"
) -> dict[str, Any]:
    """A copy of ``data`` with dotted keys replaced; unknown keys get a "did you mean" hint."""
    result = {k: dict(v) if isinstance(v, Mapping) else v for k, v in data.items()}
    for key, value in overrides:
        section, _, leaf = key.partition(".")
        if not leaf:
            if section not in TOP_LEVEL_KEYS:
                allowed = list(TOP_LEVEL_KEYS) + [f"{s}.KEY" for s in SECTIONS]
                raise InputError(f"{source} {key}: unknown key; {_hint(section, allowed)}")
            result[section] = value
            continue
        if section not in SECTIONS:
            raise InputError(f"{source} {key}: unknown section; {_hint(section, list(SECTIONS))}")
        known = [f.name for f in dataclasses.fields(SECTIONS[section])]
        if leaf not in known:
            raise InputError(f"{source} {key}: unknown key; {_hint(leaf, known)}")
        result.setdefault(section, {})[leaf] = value
    return result


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load, override and validate a scenario file, with its profile loaded.

    Override values are typed like TOML values; file paths given as overrides resolve against
    the current directory, those in the file against the file's folder.
    """
    path = Path(path)
    data = read_toml(path)
    parsed = [absolute_override(*parse_override(text)) for text in overrides]
    scenario_from_dict(data, str(path), path.parent, load=False)  # the file alone must be valid
    merged = apply_overrides(data, parsed)
    source = str(path) if not parsed else f"{path} with --set"
    return scenario_from_dict(merged, source, path.parent)


def absolute_override(key: str, value: Any) -> tuple[str, Any]:
    """An override ``(key, value)``; a file-path value is made absolute against the current
    directory (paths in a file resolve against the file's folder instead)."""
    section, _, leaf = key.partition(".")
    cls = SECTIONS.get(section)
    if cls is not None and isinstance(value, str) and leaf in field_types(cls):
        hint = field_types(cls)[leaf]
        if hint is Path or Path in typing.get_args(hint):
            return key, str(Path(value).absolute())
    return key, value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain mapping of a scenario, as a TOML file would hold it (the resolved form)."""
    data: dict[str, Any] = {
        "name": scenario.name,
        "seed": scenario.seed,
        "schemes": list(scenario.schemes),
    }
    for section in SECTIONS:
        part = getattr(scenario, section)
        values = {}
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            values[f.name] = str(value) if isinstance(value, Path) else value
        data[section] = values
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """Write a mapping of scalars and one level of tables as TOML text (``None`` is left out)."""
    lines = [
        f"{k} = {_toml_value(v)}"
        for k, v in data.items()
        if not isinstance(v, Mapping) and v is not None
    ]
    for key, table in data.items():
        if isinstance(table, Mapping):
            lines.append(f"\n[{key}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None)
    return "\n".join(lines) + "\n"


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """``{"channel": {"uplink_bps": 1}}`` → ``{"channel.uplink_bps": 1}`` (for result rows)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(flatten({f"{key}.{k}": v for k, v in value.items()}))
        elif isinstance(value, list):
            flat[key] = json.dumps(value)
        else:
            flat[key] = value
    return flat
