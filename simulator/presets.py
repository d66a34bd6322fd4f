"""Channel and device presets: documented starting points, not measurements of your system.

Data only. A scenario names a preset in its ``[channel]``, ``[edge]`` or ``[cloud]`` table
(``preset = "4g"``); keys written beside it override the preset's values. Every number has a
source (author, title, year) or is stated as an assumption in :data:`PRESET_SOURCES`; the
reasoning behind each is in ``docs/presets.md``.

Effective throughput is not a data-sheet peak. Each device's ``fwd_flops_per_s`` and
``bwd_flops_per_s`` are its peak FP32 FLOP/s (from the data sheet, or derived from cores × clock
× FLOPs per cycle) times a *utilisation*: the fraction of peak that training of small CNNs at
small batch sizes reaches in a framework like PyTorch. The utilisations are assumptions, chosen
per device class and written below beside each device; calibrate them with timed runs
(design.md §7) before trusting absolute times. Backward passes are assumed to reach a lower
fraction of peak than forward passes (weight-gradient kernels are less tuned).

Radio energy per bit uses the marginal (per-throughput) terms of the LTE and Wi-Fi power
models of Huang et al. 2012: power while transferring = β + α·throughput, so α (mW per Mbit/s)
is joules per bit. The base power β and the radio's tail after a transfer are not per-bit costs;
they are left out (fold them into ``idle_power_w`` if they matter to you).
"""

from __future__ import annotations

from simulator.units import FLOPS_PER_MAC, GBIT, GFLOP, GIB, MBIT, MS_PER_S, MW_PER_W, TFLOP

# --- Radio energy per bit (edge devices) -------------------------------------------------------
# Huang, Qian, Gerber, Mao, Sen, Spatscheck, "A Close Examination of Performance and Power
# Characteristics of 4G LTE Networks", MobiSys 2012, power model (Table 3):
# alpha_u / alpha_d in mW per Mbit/s of uplink / downlink throughput.
LTE_TX_J_PER_BIT = 438.39 / MW_PER_W / MBIT
LTE_RX_J_PER_BIT = 51.97 / MW_PER_W / MBIT
WIFI_TX_J_PER_BIT = 283.17 / MW_PER_W / MBIT
WIFI_RX_J_PER_BIT = 137.01 / MW_PER_W / MBIT

# --- Utilisation assumptions (fraction of FP32 peak reached in training) -----------------------
EMBEDDED_GPU_FWD_UTILISATION = 0.25
"""Assumption: small-batch CNN training on a Jetson-class GPU (launch overheads, small kernels)."""
EMBEDDED_GPU_BWD_UTILISATION = 0.20
CPU_FWD_UTILISATION = 0.15
"""Assumption: PyTorch CPU training on ARM cores (im2col/GEMM with NEON, memory bound layers)."""
CPU_BWD_UTILISATION = 0.10
PHONE_FWD_UTILISATION = 0.10
"""Assumption: on-device training on phone CPU big cores, sustained (thermal throttling)."""
PHONE_BWD_UTILISATION = 0.07
SERVER_GPU_FWD_UTILISATION = 0.50
"""Assumption: FP32 CNN training on a data-centre GPU at moderate batch sizes."""
SERVER_GPU_BWD_UTILISATION = 0.40

# --- Peak FP32 throughput ----------------------------------------------------------------------
JETSON_NANO_PEAK_FLOPS_PER_S = 128 * FLOPS_PER_MAC * 0.9216 * GFLOP
"""NVIDIA Jetson Nano data sheet: 128 Maxwell CUDA cores at 921.6 MHz, one FMA per core per
cycle (236 GFLOP/s FP32; the advertised 472 GFLOPS is FP16)."""
JETSON_ORIN_NANO_PEAK_FLOPS_PER_S = 1024 * FLOPS_PER_MAC * 0.625 * GFLOP
"""NVIDIA Jetson Orin Nano 8GB data sheet: 1024 Ampere CUDA cores at 625 MHz (1.28 TFLOP/s
FP32; tensor cores and the later 1020 MHz "Super" mode not counted)."""
RASPBERRY_PI_4_PEAK_FLOPS_PER_S = 4 * 1.5 * 8 * GFLOP
"""Raspberry Pi 4 Model B product brief: 4 Cortex-A72 cores at 1.5 GHz; assumption: one 4-lane
FP32 NEON FMA per core per cycle (8 FLOPs/cycle)."""
PHONE_PEAK_FLOPS_PER_S = (2.84 + 3 * 2.42) * 16 * GFLOP
"""Qualcomm Snapdragon 865 product brief: 1 Cortex-A77 at 2.84 GHz + 3 at 2.42 GHz (the four
efficiency cores ignored); assumption: two 4-lane FP32 FMA pipes per A77 (16 FLOPs/cycle)."""
A100_PEAK_FLOPS_PER_S = 19.5 * TFLOP
"""NVIDIA A100 Tensor Core GPU data sheet (2020): 19.5 TFLOP/s FP32 (non-tensor; TF32 tensor
cores, PyTorch's default for convolutions, reach 156 TFLOP/s dense)."""
T4_PEAK_FLOPS_PER_S = 8.1 * TFLOP
"""NVIDIA T4 data sheet (2019): 8.1 TFLOP/s FP32."""


CHANNEL_PRESETS: dict[str, dict[str, float]] = {
    "3g": {
        "uplink_bps": 0.5 * MBIT,
        "downlink_bps": 1.5 * MBIT,
        "latency_s": 75 / MS_PER_S,
        "jitter_s": 20 / MS_PER_S,
        "loss_rate": 0.0,
    },
    "4g": {
        "uplink_bps": 6 * MBIT,
        "downlink_bps": 13 * MBIT,
        "latency_s": 35 / MS_PER_S,
        "jitter_s": 5 / MS_PER_S,
        "loss_rate": 0.0,
    },
    "4g_lte_cell_edge": {
        "uplink_bps": 0.5 * MBIT,
        "downlink_bps": 2 * MBIT,
        "latency_s": 60 / MS_PER_S,
        "jitter_s": 20 / MS_PER_S,
        "loss_rate": 0.005,
    },
    "5g": {
        "uplink_bps": 30 * MBIT,
        "downlink_bps": 200 * MBIT,
        "latency_s": 15 / MS_PER_S,
        "jitter_s": 2 / MS_PER_S,
        "loss_rate": 0.0,
    },
    "wifi": {
        "uplink_bps": 50 * MBIT,
        "downlink_bps": 100 * MBIT,
        "latency_s": 10 / MS_PER_S,
        "jitter_s": 2 / MS_PER_S,
        "loss_rate": 0.0,
    },
    "datacenter_lan": {
        "uplink_bps": 10 * GBIT,
        "downlink_bps": 10 * GBIT,
        "latency_s": 0.05 / MS_PER_S,
        "jitter_s": 0.0,
        "loss_rate": 0.0,
    },
}
"""Link presets: keys of the scenario's ``[channel]`` table (rates in bit/s, times in s)."""


DEVICE_PRESETS: dict[str, dict[str, float]] = {
    # --- edge devices ---
    "jetson_nano": {
        "fwd_flops_per_s": JETSON_NANO_PEAK_FLOPS_PER_S * EMBEDDED_GPU_FWD_UTILISATION,
        "bwd_flops_per_s": JETSON_NANO_PEAK_FLOPS_PER_S * EMBEDDED_GPU_BWD_UTILISATION,
        "step_overhead_s": 5 / MS_PER_S,
        "memory_bytes": 3 * GIB,
        "busy_power_w": 10.0,
        "idle_power_w": 1.5,
        "radio_tx_j_per_bit": WIFI_TX_J_PER_BIT,
        "radio_rx_j_per_bit": WIFI_RX_J_PER_BIT,
    },
    "jetson_orin_nano": {
        "fwd_flops_per_s": JETSON_ORIN_NANO_PEAK_FLOPS_PER_S * EMBEDDED_GPU_FWD_UTILISATION,
        "bwd_flops_per_s": JETSON_ORIN_NANO_PEAK_FLOPS_PER_S * EMBEDDED_GPU_BWD_UTILISATION,
        "step_overhead_s": 3 / MS_PER_S,
        "memory_bytes": 6 * GIB,
        "busy_power_w": 15.0,
        "idle_power_w": 3.0,
        "radio_tx_j_per_bit": WIFI_TX_J_PER_BIT,
        "radio_rx_j_per_bit": WIFI_RX_J_PER_BIT,
    },
    "raspberry_pi_4": {
        "fwd_flops_per_s": RASPBERRY_PI_4_PEAK_FLOPS_PER_S * CPU_FWD_UTILISATION,
        "bwd_flops_per_s": RASPBERRY_PI_4_PEAK_FLOPS_PER_S * CPU_BWD_UTILISATION,
        "step_overhead_s": 2 / MS_PER_S,
        "memory_bytes": 3 * GIB,
        "busy_power_w": 6.4,
        "idle_power_w": 2.7,
        "radio_tx_j_per_bit": WIFI_TX_J_PER_BIT,
        "radio_rx_j_per_bit": WIFI_RX_J_PER_BIT,
    },
    "phone": {
        "fwd_flops_per_s": PHONE_PEAK_FLOPS_PER_S * PHONE_FWD_UTILISATION,
        "bwd_flops_per_s": PHONE_PEAK_FLOPS_PER_S * PHONE_BWD_UTILISATION,
        "step_overhead_s": 2 / MS_PER_S,
        "memory_bytes": 2 * GIB,
        "busy_power_w": 5.0,
        "idle_power_w": 0.5,
        "radio_tx_j_per_bit": LTE_TX_J_PER_BIT,
        "radio_rx_j_per_bit": LTE_RX_J_PER_BIT,
    },
    # --- cloud servers ---
    "a100": {
        "fwd_flops_per_s": A100_PEAK_FLOPS_PER_S * SERVER_GPU_FWD_UTILISATION,
        "bwd_flops_per_s": A100_PEAK_FLOPS_PER_S * SERVER_GPU_BWD_UTILISATION,
        "step_overhead_s": 1 / MS_PER_S,
        "memory_bytes": 40 * GIB,
        "busy_power_w": 400.0,
        "idle_power_w": 50.0,
    },
    "t4": {
        "fwd_flops_per_s": T4_PEAK_FLOPS_PER_S * SERVER_GPU_FWD_UTILISATION,
        "bwd_flops_per_s": T4_PEAK_FLOPS_PER_S * SERVER_GPU_BWD_UTILISATION,
        "step_overhead_s": 1 / MS_PER_S,
        "memory_bytes": 16 * GIB,
        "busy_power_w": 70.0,
        "idle_power_w": 10.0,
    },
    # PLACEHOLDER "this_machine": the calibrated effective FLOP/s of the project's 2-core CPU
    # machine will be added here by the measured-runs work (python -m simulator calibrate).
    # Do not invent a number for it.
}
"""Device presets: keys of the scenario's ``[edge]`` / ``[cloud]`` tables (FLOP/s, s, bytes,
W, J/bit). Edge devices carry radio energy per bit; servers do not."""


PRESET_SOURCES: dict[str, str] = {
    # channels
    "3g": "Huang et al. 2012, 'A Close Examination of Performance and Power Characteristics of "
          "4G LTE Networks' (MobiSys): 3G (HSPA/EV-DO) medians of about 1-2 Mbit/s down, under "
          "1 Mbit/s up, RTT 100-200 ms, rounded; shaped like Riiser et al. 2013 'Commute path "
          "bandwidth traces from 3G networks' (MMSys). Jitter: assumption.",
    "4g": "Huang et al. 2012 (MobiSys): LTE median throughput 13 Mbit/s down, 6 Mbit/s up "
          "(4GTest, 3000+ users), RTT about 70 ms (one-way 35 ms). Jitter: assumption.",
    "4g_lte_cell_edge": "assumption: a weak LTE cell (uplink 0.5 Mbit/s, about a tenth of the "
                        "Huang et al. 2012 median; longer queueing delay; 0.5% residual packet "
                        "loss after link-layer retransmission). Use a trace for realism.",
    "5g": "assumption: order of magnitude of mid-band (sub-6 GHz, NSA) 5G measurements in Xu et "
          "al. 2020 'Understanding Operational 5G: A First Measurement Study on Its Coverage, "
          "Performance and Energy Consumption' (SIGCOMM) and Narayanan et al. 2021 'A "
          "Variegated Look at 5G in the Wild' (SIGCOMM); not a transcription of either.",
    "wifi": "assumption: home 802.11ac access point with a 100/50 Mbit/s broadband uplink and "
            "10 ms one-way to a cloud region.",
    "datacenter_lan": "assumption: 10 Gbit/s Ethernet inside one data centre, 50 us one-way.",
    # devices
    "jetson_nano": "NVIDIA Jetson Nano module data sheet (2019): 128 CUDA cores at 921.6 MHz "
                   "(236 GFLOP/s FP32), 4 GB LPDDR4 shared with the CPU (3 GiB assumed usable), "
                   "10 W power mode. Utilisation 25% fwd / 20% bwd, 5 ms step overhead, 1.5 W "
                   "idle: assumptions. Radio: Wi-Fi model of Huang et al. 2012.",
    "jetson_orin_nano": "NVIDIA Jetson Orin Nano 8GB data sheet (2023): 1024 CUDA cores at "
                        "625 MHz (1.28 TFLOP/s FP32), 8 GB shared (6 GiB assumed usable), 15 W "
                        "mode. Utilisation 25% / 20%, 3 ms step overhead, 3 W idle: assumptions. "
                        "Radio: Wi-Fi model of Huang et al. 2012.",
    "raspberry_pi_4": "Raspberry Pi 4 Model B product brief (2019): 4x Cortex-A72 at 1.5 GHz, "
                      "4 GB (3 GiB assumed usable); peak assumes 8 FP32 FLOPs/cycle/core "
                      "(48 GFLOP/s). Utilisation 15% / 10%: assumption. Power 6.4 W loaded, "
                      "2.7 W idle: typical published bench measurements, approximate. Radio: "
                      "Wi-Fi model of Huang et al. 2012.",
    "phone": "Qualcomm Snapdragon 865 product brief (2019/2020): big cores 1x A77 at 2.84 GHz "
             "+ 3x A77 at 2.42 GHz; 16 FP32 FLOPs/cycle/core assumed (162 GFLOP/s). "
             "Utilisation 10% / 7%, 2 GiB for one app, 5 W busy and 0.5 W idle: assumptions. "
             "Radio: LTE model of Huang et al. 2012.",
    "a100": "NVIDIA A100 data sheet (2020): 19.5 TFLOP/s FP32, 40 GB HBM2, 400 W (SXM4). "
            "Utilisation 50% / 40% and 50 W idle: assumptions. TF32 tensor cores would be "
            "faster: calibrate.",
    "t4": "NVIDIA T4 data sheet (2019): 8.1 TFLOP/s FP32, 16 GB GDDR6, 70 W. Utilisation "
          "50% / 40% and 10 W idle: assumptions.",
}
"""Where each preset's numbers come from (author, title, year) or ``assumption: ...``."""
