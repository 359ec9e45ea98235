"""INT8 is served by default only where the CPU has 8-bit dot-product instructions: the flag-set rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from vision.cpu_features import cpu_flags, has_fast_int8, parse_cpu_flags

# This development machine (AMD EPYC as the VM exposes it): AVX2, no VNNI.
AVX2_ONLY = frozenset(["fpu", "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "f16c", "fma", "avx2", "bmi2"])


@pytest.mark.parametrize(
    ("flags", "fast"),
    [
        (AVX2_ONLY, False),
        (AVX2_ONLY | {"avx512f", "avx512bw", "avx512vl"}, False),  # AVX-512 without VNNI (Skylake-SP)
        (AVX2_ONLY | {"avx512f", "avx512_vnni"}, True),  # Cascade Lake, Zen 4
        (AVX2_ONLY | {"avx_vnni"}, True),  # Alder Lake and later client cores
        (AVX2_ONLY | {"amx_tile", "amx_int8", "amx_bf16", "avx512_vnni"}, True),  # Sapphire Rapids
        (frozenset({"amx_int8"}), True),
        (frozenset({"avx512_vnni_fake", "vnni"}), False),  # only the exact kernel flag names count
        (frozenset(), False),
    ],
)
def test_fast_int8_needs_vnni_or_amx(flags: frozenset[str], fast: bool) -> None:
    assert has_fast_int8(flags) is fast


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu sse2
"""


def test_flags_are_read_from_the_first_processor() -> None:
    assert parse_cpu_flags(CPUINFO) == {"fpu", "sse2", "avx2", "avx512f", "avx512_vnni"}
    assert has_fast_int8(parse_cpu_flags(CPUINFO))


def test_no_x86_flags_line_means_no_flags(tmp_path: Path) -> None:
    arm = "processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x41\n"
    assert parse_cpu_flags(arm) == frozenset()
    assert cpu_flags(tmp_path / "missing") == frozenset()
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    assert "avx512_vnni" in cpu_flags(tmp_path / "cpuinfo")
