"""Which CPUs get a model's INT8 variant by default: a pure decision over the CPU's flag set.

With 8-bit dot-product instructions (AVX-512 VNNI, AVX-VNNI, AMX) onnxruntime's INT8 kernels multiply-add
u8×s8 straight into int32: its fastest path, and exact. Without them (plain AVX2) pairs of products are
added in int16 first, which can saturate and change results; the shipped variant was gated on such a CPU
and measured 1.2× FP32 there (README "Models"), but ``auto`` keeps FP32 on it, as issue 14 asks: pin
``int8`` to use it.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

FAST_INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
CPUINFO = Path("/proc/cpuinfo")


def has_fast_int8(flags: Set[str]) -> bool:
    """True when the flag set names an 8-bit dot-product instruction set (AVX-512 VNNI, AVX-VNNI, AMX)."""
    return not FAST_INT8_FLAGS.isdisjoint(flags)


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The x86 ``flags`` of the first processor in a ``/proc/cpuinfo`` text (empty elsewhere, e.g. ARM)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """This machine's CPU flags; empty when ``/proc/cpuinfo`` cannot be read (not Linux)."""
    try:
        return parse_cpu_flags(cpuinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return frozenset()
