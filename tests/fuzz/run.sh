#!/usr/bin/env bash
# run.sh - build the libFuzzer targets with clang in build-fuzz/ and run each
# for N seconds (default 20).
#
#   tests/fuzz/run.sh [seconds] [target...]
#
# Each target starts from its seeds in tests/fuzz/corpus/<target>/ (never
# written to) and keeps what it finds in build-fuzz/corpus/<target>/.
# A crash, leak or failed check is saved as build-fuzz/artifacts/<target>-*
# and makes the script exit non-zero, after the other targets have run.
# Environment: CC (default clang), FUZZ_JOBS (parallel build jobs),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. "-max_len=8192").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build-fuzz"
seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_http fuzz_sse fuzz_json fuzz_json_fast fuzz_request fuzz_url fuzz_retry
           fuzz_client)
fi
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [seconds] [target...]" >&2; exit 2 ;;
esac

CC=${CC:-clang} cmake -S "$root" -B "$build" -DCW_BUILD_FUZZ=ON \
  -DCW_BUILD_TESTS=OFF -DCW_BUILD_EXAMPLES=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null

mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-")
  if [ -f "$here/$t.dict" ]; then
    args+=(-dict="$here/$t.dict")
  fi
  # shellcheck disable=SC2206
  args+=(${FUZZ_FLAGS:-})
  echo "== $t: ${seconds}s" >&2
  if "$build/tests/fuzz/$t" "${args[@]}" "$build/corpus/$t" "$here/corpus/$t" \
       >"$build/$t.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' \
      "$build/$t.log" | sed "s/^/   /" >&2 || true
  else
    echo "!! $t failed; log: $build/$t.log" >&2
    tail -n 40 "$build/$t.log" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]} (artifacts in $build/artifacts/)" >&2
  exit 1
fi
echo "all fuzz targets ran ${seconds}s without a crash" >&2
