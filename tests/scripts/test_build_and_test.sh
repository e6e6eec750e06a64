#!/usr/bin/env bash
# test_build_and_test.sh - scripts/build-and-test.sh must never count a run
# as passed when tests did not run: it is tried on small CMake projects
# made here, and each case must end the way it says.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-bat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

project() { # DIR CMAKE_BODY
  mkdir -p "$1"
  printf 'cmake_minimum_required(VERSION 3.16)\nproject(t NONE)\nenable_testing()\n%s\n' "$2" >"$1/CMakeLists.txt"
}
expect() { # WANT(pass|fail) NAME SRC BUILD [ARGS...]
  local want=$1 name=$2 src=$3 build=$4
  shift 4
  local got=pass
  bash "$root/scripts/build-and-test.sh" --source "$src" "$build" "$@" >"$tmp/$name.log" 2>&1 || got=fail
  if [[ $got == "$want" ]]; then
    echo "ok   $name"
  else
    echo "FAIL $name: expected $want, got $got"; sed 's/^/     /' "$tmp/$name.log"
    failures=$((failures + 1))
  fi
}

project "$tmp/none" ''
expect fail no_tests_registered_fails "$tmp/none" "$tmp/none-b"

project "$tmp/skip" 'add_test(NAME s COMMAND sh -c "exit 77")
set_tests_properties(s PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME p COMMAND true)'
expect fail a_skipped_test_fails "$tmp/skip" "$tmp/skip-b"

project "$tmp/disabled" 'add_test(NAME d COMMAND true)
set_tests_properties(d PROPERTIES DISABLED TRUE)
add_test(NAME p COMMAND true)'
expect fail a_disabled_test_fails "$tmp/disabled" "$tmp/disabled-b"

project "$tmp/failing" 'add_test(NAME f COMMAND false)'
expect fail a_failing_test_fails "$tmp/failing" "$tmp/failing-b"

project "$tmp/good" 'add_test(NAME p COMMAND true)
add_test(NAME q COMMAND true)'
expect pass all_tests_run_and_pass "$tmp/good" "$tmp/good-b"
# a relative build directory, as scripts/test.sh gives them
cd "$tmp"
expect pass relative_build_directory "$tmp/good" good-rel
cd - >/dev/null

# a cached option from an earlier configure must not carry over
project "$tmp/opt" 'option(T_TESTS "register the test" ON)
if(T_TESTS)
  add_test(NAME p COMMAND true)
endif()'
cmake -S "$tmp/opt" -B "$tmp/opt-b" -DT_TESTS=OFF >/dev/null
expect pass cached_option_is_not_reused "$tmp/opt" "$tmp/opt-b"
expect fail option_given_again_is_honoured "$tmp/opt" "$tmp/opt-b" -DT_TESTS=OFF

echo "$failures failed"
exit $((failures > 0))
