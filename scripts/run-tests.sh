#!/usr/bin/env bash
# Builds and runs every test: a Release build of everything (engine, CLI, server, app; the CUDA backend too when
# nvcc is present: its tests skip without a GPU), the Debian packages made from that build and checked installed
# into a throwaway root (scripts/test-packages.sh: contents, Depends, jetchat --self-check, man pages, units), an
# AddressSanitizer + UBSan build of the engine's suite, and an aarch64 cross build whose CPU tests run under
# qemu-user and whose arm64 jetchat-cli package is checked (scripts/test-aarch64.sh: the NEON kernels; needs
# `scripts/install-deps.sh --aarch64`, skipped with a notice where the cross compiler or qemu is missing).
# Build folders are kept (build-release/, build-sanitize/) and ccache is used, so reruns are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$PWD  # paths relative to the checkout: a fresh clone elsewhere reuses the cache

run_suite() {  # run_suite <build dir> <cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

echo "== Release build and tests"
run_suite build-release -DCMAKE_BUILD_TYPE=Release -DJETCHAT_APP=ON
echo "== Debian packages from the Release build, installed into a throwaway root"
bash scripts/test-packages.sh build-release
echo "== Sanitizer build (ASan + UBSan) and tests"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_suite build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJETCHAT_SANITIZE=ON -DJETCHAT_CUDA=OFF
echo "== aarch64 cross build (NEON kernels) and CPU tests under qemu-user"
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; then
  bash scripts/test-aarch64.sh
else
  echo "SKIPPED: no aarch64-linux-gnu-g++ or qemu-aarch64 (scripts/install-deps.sh --aarch64 installs them)"
fi
