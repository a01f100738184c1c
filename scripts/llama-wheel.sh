#!/usr/bin/env bash
# Builds (once) and installs llama-cpp-python for the real-model test tier, portably.
#
# llama.cpp builds with -march=native by default, and pip caches the wheel it built under the
# sdist's name alone. Such a wheel is tied to the CPU it was compiled on, and on an AVX-512
# Xeon a native build crashed in decode. So the build names its instruction sets itself: the
# AVX2 generation (SSE4.2, AVX, AVX2, FMA, F16C, BMI2) where this CPU has them, and never
# AVX-512 or AMX, whose code paths are the ones that differ between CPUs that all run AVX2.
# The wheel is kept in a folder named after the version and those flags, so a machine reuses
# only a wheel built for what it can run.
#
#   scripts/llama-wheel.sh PYTHON VERSION
set -euo pipefail
python=$1
version=$2

flags=(-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF
       -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
       -DGGML_AMX_BF16=OFF)
tag=""
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
for pair in sse4_2:SSE42 avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2; do
    cpu=${pair%%:*}
    option=${pair##*:}
    if [[ $cpu_flags == *" $cpu "* ]]; then
        flags+=("-DGGML_$option=ON")
        tag+="-$cpu"
    else
        flags+=("-DGGML_$option=OFF")
    fi
done
# The vision library and HTTPS model downloads are not used; leaving them out shortens the build.
flags+=(-DLLAVA_BUILD=OFF -DLLAMA_OPENSSL=OFF)

cache=${ANNOLAB_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/annolab/wheels}
folder="$cache/llama-cpp-python-$version$tag"
if ! ls "$folder"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $version for${tag//-/ } (a few minutes, once)"
    mkdir -p "$folder.tmp"
    CMAKE_ARGS="${flags[*]}" "$python" -m pip wheel --quiet --no-cache-dir --no-deps \
        -w "$folder.tmp" "llama-cpp-python==$version"
    rm -rf "$folder"
    mv "$folder.tmp" "$folder"
fi
"$python" -m pip install --quiet --find-links "$folder" "llama-cpp-python==$version"
