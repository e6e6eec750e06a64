#!/usr/bin/env bash
# build-and-test.sh - configure one build from fresh options, build it, and
# run its tests with ctest, failing when any registered test did not run.
#
#   scripts/build-and-test.sh [--source DIR] BUILD_DIR [CMAKE_ARGS...]
#
# - The configure step is `cmake --fresh`: options cached by an earlier run
#   of the same build directory are dropped, so a build gets exactly the
#   options given here, never ones left over (say -DCW_BUILD_TESTS=OFF).
# - ctest runs with --no-tests=error, and its JUnit report is read back:
#   the run fails unless every test that `ctest -N` registers ran and
#   passed. A skipped test, a disabled one, or a build with no tests at all
#   is a failure, never a pass.
# --source DIR: the source tree (default: this repository).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ "${1:-}" == --source ]]; then
  src=$(cd "$2" && pwd)
  shift 2
fi
[[ $# -ge 1 ]] || { echo "usage: $0 [--source DIR] BUILD_DIR [CMAKE_ARGS...]" >&2; exit 2; }
dir=$1
shift
jobs=$(nproc 2>/dev/null || echo 2)
name=$(basename "$dir")

echo "== $name: configure (fresh) and build"
mkdir -p "$dir"
cmake --fresh -S "$src" -B "$dir" "$@" >"$dir/configure.log" 2>&1 ||
  { cat "$dir/configure.log" >&2; exit 1; }
cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1 ||
  { tail -n 60 "$dir/build.log" >&2; exit 1; }

registered=$(ctest --test-dir "$dir" -N | sed -n 's/^Total Tests: *//p')
if [[ -z "$registered" || "$registered" -eq 0 ]]; then
  echo "== $name: FAILED: no tests are registered in this build" >&2
  exit 1
fi
echo "== $name: ctest ($registered tests)"
junit="$(cd "$dir" && pwd)/ctest-junit.xml"   # ctest takes it relative to DIR
rm -f "$junit"
rc=0
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --no-tests=error \
  --output-junit "$junit" || rc=$?
python3 - "$junit" "$registered" "$name" <<'PY' || rc=1
import sys
import xml.etree.ElementTree as ET
path, registered, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    cases = ET.parse(path).getroot().iter("testcase")
except (OSError, ET.ParseError) as e:
    sys.exit("== %s: FAILED: no ctest report (%s)" % (name, e))
ran, bad = 0, []
for c in cases:
    status = c.get("status", "")
    if status == "run" and c.find("failure") is None:
        ran += 1
    else:
        bad.append("%s (%s)" % (c.get("name"), status or "failed"))
if bad or ran != registered:
    sys.exit("== %s: FAILED: %d of %d registered tests ran and passed; "
             "not: %s" % (name, ran, registered, ", ".join(bad) or "-"))
print("== %s: %d of %d tests ran and passed" % (name, ran, registered))
PY
exit $rc
