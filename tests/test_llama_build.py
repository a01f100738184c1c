"""The llama.cpp that the real-model tier runs is built for a portable instruction set.

A build with -march=native crashed on an AVX-512 Xeon, and a wheel built natively on one CPU
may not run on another. scripts/llama-wheel.sh builds for the AVX2 generation at most; this
checks the machine code itself, so a changed build option or a wheel from some other cache
cannot slip through: no AVX-512 (zmm registers, opmasks) and no AMX (tile registers).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import not_installed

pytestmark = pytest.mark.slow

# AVX-512 works on zmm registers and k opmasks; AMX on tmm tiles.
WIDER_THAN_AVX2 = re.compile(r"%zmm\d|%k[1-7]\b|%tmm\d")


def _libraries() -> list[Path]:
    try:
        import llama_cpp
    except ImportError:
        not_installed("llama-cpp-python is not installed (`make setup` installs it)")
    libs = sorted((Path(llama_cpp.__file__).parent / "lib").glob("*.so"))
    assert libs, "llama_cpp ships its libraries in llama_cpp/lib"
    return libs


def test_llama_cpp_has_no_avx512_or_amx_code() -> None:
    objdump = shutil.which("objdump")
    if objdump is None:
        not_installed("objdump (binutils) is not installed")
    found: dict[str, int] = {}
    vector_code = 0
    for lib in _libraries():
        listing = subprocess.run(
            [objdump, "-d", "--no-show-raw-insn", str(lib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found[lib.name] = len(WIDER_THAN_AVX2.findall(listing))
        vector_code += listing.count("%ymm") + listing.count("%xmm")
    assert found == dict.fromkeys(found, 0)
    assert vector_code > 0, "the build still uses SIMD (SSE/AVX), not scalar code only"
