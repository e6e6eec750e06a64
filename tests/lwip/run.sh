#!/usr/bin/env bash
# run.sh - build and run chatwire's lwIP end-to-end test in one command.
#
#   bash tests/lwip/run.sh [BUILD_DIR]     (as root; default build-lwip)
#
# Configures tests/lwip/ as a standalone CMake project in BUILD_DIR (it
# pulls in the library from the repository root), builds lwip_e2e_debian
# (Debian's liblwip-dev) and lwip_e2e_src (lwIP 2.2.1 from
# third_party/src, if scripts/get-deps-src.sh --only lwip unpacked it),
# then runs tests/lwip/e2e.sh on them. Needs: liblwip-dev, libmbedtls-dev,
# libjsmn-dev, cmake, python3, openssl, iproute2.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build-lwip}
cmake -S tests/lwip -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
bins=()
for b in lwip_e2e_debian lwip_e2e_src lwip_e2e_src_select; do
  [[ -x "$dir/$b" ]] && bins+=("$dir/$b")
done
[[ ${#bins[@]} -gt 0 ]] || { echo "run.sh: no lwIP found to build against" >&2; exit 1; }
CW_LWIP_WORK_DIR="$dir/lwip_e2e" bash tests/lwip/e2e.sh "${bins[@]}"
