#!/usr/bin/env bash
# Cross-builds the engine, CLI (with the server) and CPU tests for aarch64 with Debian's g++-aarch64-linux-gnu (CUDA off,
# app off) and runs the CPU tests under qemu-user, so the NEON kernels (kernels/cpu/vec_neon.cpp, q4_neon.cpp,
# q8_neon.cpp) are tested on an x86 machine. Then packages the arm64 jetchat-cli .deb (cpack) and checks it:
# architecture, an aarch64 binary (file), its Depends against the native package's, and the packaged binary run
# under qemu-user.
# Needs `scripts/install-deps.sh --aarch64` (cross compiler, qemu-user, file, arm64 apt sources).
# The arm64 -dev packages are downloaded and extracted into build-aarch64-sysroot/ (not installed with dpkg: the
# arm64 libsentencepiece-dev would replace the amd64 one the native build uses).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export JETCHAT_AARCH64_SYSROOT=$PWD/build-aarch64-sysroot
sysroot=$JETCHAT_AARCH64_SYSROOT
debs=(libsentencepiece0:arm64 libsentencepiece-dev:arm64 libpcre2-8-0:arm64 libpcre2-dev:arm64 libutf8proc2:arm64 libutf8proc-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
      libcpp-httplib0.11:arm64 libcpp-httplib-dev:arm64 libssl3:arm64 libssl-dev:arm64 libbrotli1:arm64
      libbrotli-dev:arm64 zlib1g:arm64 zlib1g-dev:arm64 nlohmann-json3-dev libcli11-dev)
stamp="$sysroot/.packages"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${debs[*]}" ]; then
  echo "== Extracting arm64 packages into $sysroot"
  rm -rf "$sysroot" && mkdir -p "$sysroot/debs"
  (cd "$sysroot/debs" && apt-get download "${debs[@]}")
  for d in "$sysroot"/debs/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
  # Absolute symlinks (libfoo.so -> /lib/...) would point at the host's files: make them relative to the sysroot.
  find "$sysroot/usr" -type l -lname '/*' | while read -r l; do
    ln -sfn "$sysroot$(readlink "$l")" "$l"
  done
  # Multiarch headers (openssl/opensslconf.h) go beside the others: the cross compiler does not search
  # <sysroot>/usr/include/aarch64-linux-gnu.
  cp -a "$sysroot"/usr/include/aarch64-linux-gnu/. "$sysroot"/usr/include/
  echo "${debs[*]}" > "$stamp"
fi

echo "== aarch64 cross build (qemu-user) and CPU tests"
start=$SECONDS
cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=scripts/toolchain-aarch64.cmake \
  -DJETCHAT_AARCH64_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=Release -DJETCHAT_CUDA=OFF -DJETCHAT_APP=OFF \
  -DJETCHAT_DEB_SHLIBDEPS=OFF >/dev/null  # explicit: a build folder from before may have it cached ON
cmake --build build-aarch64 -j "$jobs"
# Awq.NotWorseThanRtnOnHeldOutText is excluded here too: it is the quantizer's arithmetic, not NEON code, takes
# five minutes under emulation, and runs in the native stages.
# HttpServer.* are excluded here: they are wall-clock bound (a 1000-request soak in a time budget, 60 s client read
# timeouts) and under emulation run out of time; they test sockets and JSON, not the NEON kernels, and run natively
# in the Release stage. OpenAiApi.* (the same server code without sockets) still runs here.
(cd build-aarch64 && ctest --output-on-failure -j "$jobs" --timeout 900 -L cpu -E '^(HttpServer|Awq)\.')
# qemu's default CPU (max) has the dot-product extension, so the run above takes the sdot int8 decode kernel;
# an ARMv8.0 CPU (Cortex-A72, without it) takes the plain NEON path: its 4-bit tests again.
(cd build-aarch64 && QEMU_CPU=cortex-a72 ctest --output-on-failure -j "$jobs" --timeout 900 -R '^(Q4|Q8|HeadQ8|DemoModel)')
echo "aarch64 stage: $((SECONDS - start)) s"

echo "== arm64 package (jetchat-cli)"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build-aarch64/CMakeCache.txt)
deb=build-aarch64/jetchat-cli_${version}_arm64.deb
rm -f build-aarch64/jetchat*.deb
(cd build-aarch64 && cpack -G DEB >/dev/null)
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || { echo "FAIL: $deb: Architecture is not arm64" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
file -b "$root/usr/bin/jetchat-cli" | grep -q 'ARM aarch64' ||
  { echo "FAIL: not an aarch64 binary: $(file -b "$root/usr/bin/jetchat-cli")" >&2; exit 1; }
# The Depends are written by hand for a cross build (packaging/cpack.cmake): they must name every package that
# dpkg-shlibdeps found for the native jetchat-cli (scripts/test-packages.sh leaves it in build-release/), except
# the CUDA runtime's: the cross build is CPU-only, the native one has CUDA wherever nvcc was found.
native=$(ls build-release/jetchat-cli_"${version}"_*.deb 2>/dev/null | grep -v _arm64 | head -1 || true)
if [ -n "$native" ]; then
  names() { dpkg-deb -f "$1" Depends | tr ',|' '\n\n' | sed 's/([^)]*)//; s/ //g' | sed '/^$/d' | sort -u; }
  missing=$(comm -23 <(names "$native" | grep -Ev '^(cuda-|libcublas|libcudart)') <(names "$deb"))
  [ -z "$missing" ] || { echo "FAIL: the arm64 jetchat-cli does not depend on: $missing" >&2; exit 1; }
else
  echo "NOTICE: no native jetchat-cli package in build-release/ to compare the arm64 Depends with"
fi
libpath=$sysroot/usr/lib/aarch64-linux-gnu:$sysroot/lib/aarch64-linux-gnu
run_arm64() { qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH="$libpath" "$@"; }
got=$(run_arm64 "$root/usr/bin/jetchat-cli" --version)
[ "$got" = "jetchat-cli $version" ] || { echo "FAIL: arm64 jetchat-cli --version printed '$got'" >&2; exit 1; }
# A few greedy tokens of the demo model through the packaged binary (NEON kernels, the 4-bit path).
run_arm64 "$root/usr/bin/jetchat-cli" generate resources/models/jetchat-demo --prompt "[INST] Tell me a saying. [/INST]" \
  --temperature 0 --max-tokens 8 --json >"$root/generate.json"
grep -q '"generated_ids": *\[ *[0-9]' "$root/generate.json" ||
  { echo "FAIL: arm64 jetchat-cli generate: $(cat "$root/generate.json")" >&2; exit 1; }
echo "arm64 package: $(basename "$deb") ($(dpkg-deb -f "$deb" Depends)) passed"
