"""``auto`` precision picks what the CPU's flags say (given flag sets; no model, no CPU needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.precision import choose, cpu_flags, host_report, shown

#: This project's machine: AMD EPYC, AVX2 only (no AVX-512, no bf16), as /proc/cpuinfo lists it.
EPYC_AVX2 = frozenset(
    ["fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "fma", "avx", "f16c", "avx2", "bmi2", "vaes"]
)
#: An AMD EPYC (Zen 4) with AVX-512 BF16.
EPYC_BF16 = EPYC_AVX2 | {"avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"}
#: An Intel Xeon with AMX (Sapphire Rapids lists both).
XEON_AMX = EPYC_AVX2 | {"avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile"}
#: AMX without AVX-512 BF16 listed (some hypervisors pass the AMX flags only).
AMX_ONLY = EPYC_AVX2 | {"amx_bf16", "amx_tile"}
#: AVX-512 with VNNI but no bf16 (Ice Lake / Cascade Lake).
AVX512_VNNI = EPYC_AVX2 | {"avx512f", "avx512_vnni"}


@pytest.mark.parametrize(
    ("flags", "int8_passed", "expected"),
    [
        (EPYC_AVX2, True, "int8"),
        (EPYC_AVX2, False, "f32"),
        (EPYC_AVX2, None, "f32"),
        (AVX512_VNNI, True, "int8"),
        (EPYC_BF16, True, "bf16"),
        (EPYC_BF16, None, "bf16"),
        (XEON_AMX, True, "bf16"),
        (AMX_ONLY, False, "bf16"),
        (frozenset(), True, "int8"),
    ],
)
def test_auto_follows_the_flags_and_the_gate(
    flags: frozenset[str], int8_passed: bool | None, expected: str
) -> None:
    choice = choose("auto", flags, int8_passed)
    assert choice.precision == expected
    assert choice.reason.startswith("auto: ")


def test_the_reason_names_what_decided() -> None:
    assert "avx512_bf16" in choose("auto", EPYC_BF16, True).reason
    assert "amx_bf16" in choose("auto", AMX_ONLY, None).reason
    assert "passed its quality gate" in choose("auto", EPYC_AVX2, True).reason
    assert "failed the quality gate" in choose("auto", EPYC_AVX2, False).reason
    assert "no int8 model was built" in choose("auto", EPYC_AVX2, None).reason


def test_explicit_precisions_fall_back_where_they_cannot_run() -> None:
    assert choose("f32", XEON_AMX, True).precision == "f32"
    assert choose("bf16", XEON_AMX, None).precision == "bf16"
    no_bf16 = choose("bf16", EPYC_AVX2, True)
    assert no_bf16.precision == "f32" and "no native bf16" in no_bf16.reason
    assert choose("int8", EPYC_AVX2, True).precision == "int8"
    assert choose("int8", XEON_AMX, True).precision == "int8"  # asked for: honoured where it passed
    failed = choose("int8", EPYC_AVX2, False)
    assert failed.precision == "f32" and "failed the quality gate" in failed.reason
    assert choose("int8", EPYC_BF16, False).precision == "bf16"  # a failed model stays bf16/f32


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, f32, bf16, int8"):
        choose("fp16", EPYC_AVX2, True)


def test_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n"
    )
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == frozenset()
    assert shown(cpu_flags(cpuinfo)) == ["avx2", "avx512_bf16"]


def test_host_report_lists_the_choice_for_each_gated_model() -> None:
    report = host_report("auto", EPYC_AVX2)
    assert report["cpu_flags"] == ["avx2"]
    assert report["other_models"] == {"precision": "f32", "reason": choose("auto", EPYC_AVX2, None).reason}
    models = report["models"]
    assert isinstance(models, dict)
    for choice in models.values():
        assert choice["precision"] in ("int8", "f32")
