#!/usr/bin/env bash
# Runs every test, with ctest, in four builds:
#   build          mbedTLS 3.6 (TLS 1.2 and 1.3), built from Debian's source
#                  package (scripts/get-deps-src.sh fetches it), with lwIP
#   build-asan     the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   build-small    the core alone, sanitized, in the smallest configuration
#                  (examples/qemu-mps2/cw_config_small.h: what the firmware uses)
#   build-mbedtls2 Debian's mbedTLS 2.28 (TLS 1.2), for those who must link
#                  the system library
# then the packaging and manifest checks, the other cores (scripts/cores.sh),
# the firmware in QEMU, the fuzzers and the benchmark.
# Usage: scripts/test.sh   (after scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

# each build from fresh options, failing unless every registered test ran
run_build() { bash scripts/build-and-test.sh "$@"; }

echo "== the test runner itself: no test run passes with tests that did not run"
bash tests/scripts/test_build_and_test.sh

eval "$(bash scripts/get-deps-src.sh)"   # mbedTLS 3.6 and lwIP 2.2.1 source
mbedtls=-DCW_MBEDTLS_SOURCE_DIR="$MBEDTLS_SRC_DIR"
run_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$mbedtls" -DCW_BUILD_LWIP_TESTS=ON
run_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCW_SANITIZE=ON "$mbedtls" \
  -DCW_BUILD_LWIP_TESTS=ON
# the smallest build (every feature chatwire_config.h can drop, dropped), as
# the firmware uses it: the core tests, with the sanitizers
run_build build-small -DCMAKE_BUILD_TYPE=Debug -DCW_SANITIZE=ON -DCW_WITH_MBEDTLS=OFF \
  -DCW_CONFIG_FILE="$PWD/examples/qemu-mps2/cw_config_small.h"
run_build build-mbedtls2 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCW_MBEDTLS_SOURCE_DIR=

echo "== chatwire as other projects see it: installed, found, shared, a subdirectory"
bash tests/packaging/run.sh --mbedtls-source "$MBEDTLS_SRC_DIR"

echo "== API reference: doxygen, every public symbol documented (warnings are errors)"
doxygen Doxyfile

echo "== platform manifests: ESP-IDF, Zephyr, pico-sdk, PlatformIO, Arduino"
/usr/bin/python3 tests/manifests/check.py

echo "== other cores: flash on RV32IMC and Xtensa LX106; unit tests big-endian (s390x) and 32-bit"
bash scripts/cores.sh

echo "== the README's main command: only the answer on standard output"
demo_out=$(bash scripts/demo.sh "Hello from the demo" 2>/dev/null)
[[ "$demo_out" == "Echo: Hello from the demo" ]] ||
  { echo "scripts/demo.sh printed more than the answer: '$demo_out'" >&2; exit 1; }

echo "== Cortex-M4 firmware in QEMU: HTTPS chat against the local server"
bash scripts/mcu-run.sh                     # TLS 1.3 and 1.2, EC P-256 certificate
bash scripts/mcu-run.sh --no-build --cert rsa
bash scripts/mcu-run.sh --no-build --cert wronghost   # must be refused
bash scripts/mcu-run.sh --no-build --tls 1.3 --cert expired
bash scripts/mcu-run.sh --no-build --big    # full 16 KiB records
# chatwire's own flash in the smallest profile: at most 11,520 bytes
bash scripts/mcu-size.sh --check --budget "${CW_MCU_FLASH_BUDGET:-11520}"
# a relative --out must give the same table (map paths are absolute: it
# once attributed chatwire's objects to newlib, 0 B of chatwire)
diff <(bash scripts/mcu-size.sh) <(bash scripts/mcu-size.sh --out build-mcu)
# on-target instructions (QEMU -icount): the handshakes and chatwire's work
# per KiB of stream, held to their targets
bash scripts/mcu-cost.sh --quick --check

echo "== FreeRTOS + lwIP firmware in QEMU: every scenario, over a TAP and a bad link"
rc=0
bash scripts/freertos-run.sh || rc=$?
case $rc in
  0) bash scripts/mcu-size.sh --freertos ;;
  77) if [[ "${CI:-}" == true ]]; then
        echo "freertos: skipped in CI, where the kernel, root and /dev/net/tun are all given" >&2
        exit 1
      fi
      echo "(skipped: no FreeRTOS kernel, not root or no /dev/net/tun)" ;;
  *) exit "$rc" ;;
esac

echo "== fuzzers, briefly (tests/fuzz/run.sh SECONDS for longer)"
bash tests/fuzz/run.sh "${CW_FUZZ_SECONDS:-10}"

echo "== benchmark, quick (not a pass/fail gate: it only must run)"
bash scripts/bench.sh --quick

echo "== all tests passed"
