#!/usr/bin/env bash
# Runs every test: a normal build and an AddressSanitizer + UBSan build, each
# with ctest. Usage: scripts/test.sh   (after scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

run_build() {
  local dir="$1"; shift
  echo "== $dir: configure and build"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
  echo "== $dir: ctest"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCW_SANITIZE=ON
echo "== all tests passed"
