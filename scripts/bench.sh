#!/usr/bin/env bash
# bench.sh - chatwire measured next to libcurl + cJSON, both clients in one
# run, against the same local TLS test server and the same 512-byte answer.
#
#   bash scripts/bench.sh            # full: ~3-4 minutes on 2 cores
#   bash scripts/bench.sh --quick    # short (< 60 s): keeps the bench from
#                                    # rotting in CI: 3 requests, callgrind
#                                    # only if valgrind is installed, no massif
#   bash scripts/bench.sh --rsa      # the server shows an RSA-2048
#                                    # certificate instead of EC P-256
#
# Clients (bench/): chatwire_bench (cw_posix + cw_tls + cw_client, static
# buffers) and baseline_curl (libcurl with one reused easy handle, a realloc'ed
# write buffer, cJSON). Both send N chat requests over ONE kept-alive TLS
# connection and print the content of the last answer. The answer is the
# server's "!mode:big=512" reply: 512 bytes of content.
#
# chatwire is measured in two builds, one table each: Debian's mbedTLS 2.28
# (build-bench/) and mbedTLS 3.6 built from the source scripts/get-deps-src.sh
# (build-bench-mbedtls3/). Both are the bench/ CMake project, which builds
# the library and the CLI from this tree with the main build's settings
# (RelWithDebInfo: -O2 -g). The baseline is the same in both tables.
#
# Metrics:
#   instructions  valgrind --tool=callgrind --dump-instr=no, N=1 and N=21
#                 requests: the first request (process start, CA load,
#                 handshake, one request) is I1; a kept-alive request costs
#                 (I21-I1)/20. Split by ELF object and source file with
#                 bench/callgrind_by_object.py (self cost, checked against
#                 callgrind's total): TLS library, HTTP/JSON client (chatwire's
#                 src/ and ports/, or libcurl + libcjson), libc, other (the
#                 dynamic loader, the application, other libraries). The
#                 handshake's random blinding makes I1 vary by ~0.2 %, so the
#                 per-request figure carries a few thousand instructions of
#                 noise.
#   heap          allocation calls (malloc, calloc, realloc, aligned) and bytes
#                 asked for, counted by an LD_PRELOAD shim
#                 (bench/malloc_count.c), per kept-alive request
#                 ((A21-A1)/20) and for the first; peak heap (useful bytes,
#                 mem_heap_B) by valgrind --tool=massif over N=21.
#   latency       streamed, server paced (--pace-ms): client's CLOCK_MONOTONIC
#                 when its callback first gets text, minus the server's
#                 first_event_ns (taken before it writes the first data:
#                 event, which carries no text), minus one pace interval (the
#                 first text is in the second event). Median over the runs.
#   wall time     200 non-streamed requests over one connection, whole process,
#                 median of 3 (the Python server dominates it).
#   sizes         stripped copies of the chatwire CLI (the chatwire target of
#                 that build, the same as build/chatwire) and of baseline_curl,
#                 and the shared libraries each loads (ldd), with their sizes.
#
# Needs: cmake, a C compiler, python3, openssl, libmbedtls-dev, libjsmn-dev,
# libcurl4-openssl-dev, libcjson-dev, valgrind (installed with apt-get when
# missing and run as root). Exit 0 when every measurement ran (the figures
# are reported, not judged). CW_BENCH_KEEP=DIR keeps the profiles (callgrind
# parts, massif), the server event logs and the client outputs in DIR.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
quick=false
cert=good   # the server certificate: EC P-256 (good) or RSA-2048 (good-rsa)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=true; shift ;;
    --rsa) cert=good-rsa; shift ;;
      -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "usage: scripts/bench.sh [--quick] [--rsa]" >&2; exit 1 ;;
  esac
done

# CALLGRIND: instruction counts; MASSIF: peak heap by massif (otherwise the
# malloc counter's peak of live bytes)
if $quick; then
  N_KEEP=3; N_STREAM=3; N_WALL=20; WALL_RUNS=1; MASSIF=false
  CALLGRIND=false; command -v valgrind >/dev/null && CALLGRIND=true # if there
else
  N_KEEP=21; N_STREAM=20; N_WALL=200; WALL_RUNS=3; MASSIF=true; CALLGRIND=true
fi
PACE_MS=5
PROMPT='!mode:big=512'
jobs=$(nproc 2>/dev/null || echo 2)

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# ------------------------------------------------------------ dependencies
need=()
[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] ||
  need+=(libcurl4-openssl-dev)
[ -f /usr/include/cjson/cJSON.h ] || need+=(libcjson-dev)
if ! $quick; then command -v valgrind >/dev/null || need+=(valgrind); fi
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing: ${need[*]} (apt-get install ${need[*]})"
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${need[@]}" >/dev/null; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-bench.XXXXXX")
server_pids=()
cleanup() {
  local pid
  if [ -n "${CW_BENCH_KEEP:-}" ]; then # keep the profiles and logs
    mkdir -p "$CW_BENCH_KEEP" && cp -r "$tmp"/. "$CW_BENCH_KEEP"/ 2>/dev/null || true
  fi
  for pid in "${server_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# ------------------------------------------------------------ builds
builds=()   # "label|dir"
build_one() { # label dir [cmake args...]
  local label=$1 dir=$2; shift 2
  log "building $dir ($label)"
  if ! { cmake -S bench -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
         cmake --build "$dir" -j "$jobs"; } >"$tmp/build-${dir//\//_}.log" 2>&1; then
    cat "$tmp/build-${dir//\//_}.log" >&2
    die "build of $dir failed"
  fi
  for t in chatwire_bench baseline_curl chatwire libcw_malloc_count.so; do
    [ -e "$dir/$t" ] || die "$dir/$t was not built (see the CMake output)"
  done
  builds+=("$label|$dir")
}
build_one "mbedTLS 2.28 (Debian)" build-bench -DCW_MBEDTLS_SOURCE_DIR=
mbedtls3=""
if out=$(bash scripts/get-deps-src.sh --only mbedtls 2>"$tmp/deps.log"); then
  mbedtls3=$(printf '%s\n' "$out" | sed -n 's/^MBEDTLS_SRC_DIR=//p')
else
  log "scripts/get-deps-src.sh failed: no mbedTLS 3.6 table (see below)"
  tail -5 "$tmp/deps.log" >&2
fi
if [ -n "$mbedtls3" ]; then
  build_one "mbedTLS 3.6" build-bench-mbedtls3 -DCW_MBEDTLS_SOURCE_DIR="$mbedtls3"
fi
baseline=build-bench/baseline_curl

# ------------------------------------------------------------ servers
bash tests/server/make_certs.sh "$tmp/certs" >/dev/null 2>&1 || die "make_certs.sh failed"
CA=$tmp/certs/ca.pem
start_server() { # name [extra args] -> sets port_<name>
  local name=$1; shift
  rm -f "$tmp/$name.port"
  python3 tests/server/chat_server.py --port 0 --port-file "$tmp/$name.port" \
    --tls-cert "$tmp/certs/$cert.pem" --tls-key "$tmp/certs/$cert.key" \
    --key test-key --quiet --event-log "$tmp/$name.events" "$@" \
    2>"$tmp/$name.stderr" &
  server_pids+=($!)
  local i
  for i in $(seq 100); do
    [ -s "$tmp/$name.port" ] && break
    sleep 0.05
  done
  [ -s "$tmp/$name.port" ] || { cat "$tmp/$name.stderr" >&2; die "server $name did not start"; }
  touch "$tmp/$name.events"
  printf -v "port_$name" '%s' "$(cat "$tmp/$name.port")"
}
start_server plain
start_server paced --pace-ms "$PACE_MS"
URL=https://localhost:$port_plain/v1
URL_PACED=https://localhost:$port_paced/v1
export COMETAPI_KEY=test-key

run_client() { # exe n [args...]: stdout to $tmp/out, checked
  local exe=$1 n=$2; shift 2
  "$exe" -n "$n" --ca "$CA" --base-url "$URL" "$@" "$PROMPT" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; die "$exe -n $n failed"; }
  [ "$(wc -c <"$tmp/out")" -eq 513 ] || die "$exe: the answer is not 512 bytes"
}

# ------------------------------------------------------------ measurements
declare -A M  # M[key|metric] = value

split_profile() { # exe file... -> "total=.. tls=.. client=.. libc=.. other=.." summed
  local exe=$1 f line kv; shift
  local -A sum=([total]=0 [tls]=0 [client]=0 [libc]=0 [other]=0)
  for f in "$@"; do
    line=$(python3 bench/callgrind_by_object.py --exe "$exe" "$f") || die "cannot split $f"
    for kv in $line; do sum[${kv%%=*}]=$(( sum[${kv%%=*}] + ${kv#*=} )); done
  done
  echo "total=${sum[total]} tls=${sum[tls]} client=${sum[client]} libc=${sum[libc]} other=${sum[other]}"
}

callgrind() { # key exe
  local key=$1 exe=$2 n kv out
  for n in 1 "$N_KEEP"; do
    out=$tmp/cg.$key.$n
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
      "$exe" -n "$n" --ca "$CA" --base-url "$URL" "$PROMPT" >"$tmp/out" 2>"$out.err" ||
      { tail -20 "$out.err" >&2; die "callgrind $exe -n $n failed"; }
    [ "$(wc -c <"$tmp/out")" -eq 513 ] || die "$exe under callgrind: wrong answer"
    [ -s "$out.1" ] || die "$exe did not mark its first request for callgrind"
    # the whole run: the parts dumped at the marks and the final one
    for kv in $(split_profile "$exe" "$out" "$out".[0-9]*); do
      M[$key|cg$n.${kv%%=*}]=${kv#*=}
    done
  done
  # requests 2..N: the part between the two marks
  [ -s "$tmp/cg.$key.$N_KEEP.2" ] || die "$exe did not mark its last request for callgrind"
  for kv in $(split_profile "$exe" "$tmp/cg.$key.$N_KEEP.2"); do
    M[$key|cgk.${kv%%=*}]=$(( ${kv#*=} / (N_KEEP - 1) ))
  done
  M[$key|cgx.total]=$(( (M[$key|cg$N_KEEP.total] - M[$key|cg1.total]) / (N_KEEP - 1) ))
  python3 bench/callgrind_by_object.py --exe "$exe" --top 5 --per "$((N_KEEP - 1))" \
    "$tmp/cg.$key.$N_KEEP.2" 2>"$tmp/top.$key" >/dev/null || true
}

heap() { # key exe
  local key=$1 exe=$2 n kv
  for n in 1 "$N_KEEP"; do
    rm -f "$tmp/mc"
    CW_BENCH_MALLOC_OUT=$tmp/mc LD_PRELOAD=$root/build-bench/libcw_malloc_count.so \
      "$exe" -n "$n" --ca "$CA" --base-url "$URL" "$PROMPT" >"$tmp/out" 2>"$tmp/err" ||
      { cat "$tmp/err" >&2; die "$exe under the malloc counter failed"; }
    for kv in $(cat "$tmp/mc"); do M[$key|mc$n.${kv%%=*}]=${kv#*=}; done
  done
  # marks=<allocs>:<bytes> after request 1, <allocs>:<bytes> after request N
  local marks=${M[$key|mc$N_KEEP.marks]:-} m1 m2
  [ -n "$marks" ] && [ "${marks#*,}" != "$marks" ] || die "$exe did not mark its requests"
  m1=${marks%%,*}; m2=${marks#*,}
  M[$key|mck.allocs]=$(awk -v a="${m1%%:*}" -v b="${m2%%:*}" -v n="$((N_KEEP - 1))" \
    'BEGIN { v = (b - a) / n; if (v == int(v)) print v; else printf "%.2f\n", v }')
  M[$key|mck.bytes]=$(( (${m2#*:} - ${m1#*:}) / (N_KEEP - 1) ))
  if $MASSIF; then
    valgrind --tool=massif --massif-out-file="$tmp/massif.$key" \
      "$exe" -n "$N_KEEP" --ca "$CA" --base-url "$URL" "$PROMPT" >"$tmp/out" 2>"$tmp/err" ||
      { cat "$tmp/err" >&2; die "massif $exe failed"; }
    M[$key|massif.peak]=$(awk -F= '/^mem_heap_B=/ { if ($2 > m) m = $2 } END { print m + 0 }' \
      "$tmp/massif.$key")
  fi
}

latency() { # key exe
  local key=$1 exe=$2 before
  before=$(wc -l <"$tmp/paced.events")
  "$exe" --stream --times -n "$N_STREAM" --ca "$CA" --base-url "$URL_PACED" "$PROMPT" \
    >"$tmp/out" 2>"$tmp/lat.$key" || { cat "$tmp/lat.$key" >&2; die "$exe --stream failed"; }
  [ "$(wc -c <"$tmp/out")" -eq 513 ] || die "$exe --stream: the answer is not 512 bytes"
  local i
  for i in $(seq 100); do # the server logs a request after answering it
    [ $(( $(wc -l <"$tmp/paced.events") - before )) -ge "$N_STREAM" ] && break
    sleep 0.02
  done
  tail -n +"$((before + 1))" "$tmp/paced.events" >"$tmp/lat.$key.events"
  M[$key|lat]=$(python3 - "$tmp/lat.$key" "$tmp/lat.$key.events" "$PACE_MS" <<'EOF'
import re, statistics, sys
texts = {}
for line in open(sys.argv[1]):
    m = re.match(r"first_text_ns=(\d+) req=(\d+)", line)
    if m:
        texts[int(m.group(2))] = int(m.group(1))
events = {}
for line in open(sys.argv[2]):
    m = re.search(r"\breq=(\d+)\b.*\bfirst_event_ns=(\d+)", line)
    if m:
        events[int(m.group(1))] = int(m.group(2))
pace_ns = int(sys.argv[3]) * 1000000
lat = [(texts[r] - events[r] - pace_ns) / 1000.0 for r in texts if r in events]
if not lat:
    sys.exit("no latency samples")
print("%.0f/%.0f" % (statistics.median(lat), min(lat)))
EOF
  ) || die "latency: no samples for $exe"
  M[$key|tls]=$(grep -o 'tls=[^ ]*' "$tmp/lat.$key.events" | head -n 1 | cut -d= -f2)
}

wall() { # key exe
  local key=$1 exe=$2 r t0 t1 times=()
  for r in $(seq "$WALL_RUNS"); do
    t0=$(date +%s%N)
    "$exe" -n "$N_WALL" --ca "$CA" --base-url "$URL" "$PROMPT" >"$tmp/out" 2>"$tmp/err" ||
      { cat "$tmp/err" >&2; die "$exe -n $N_WALL failed"; }
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  M[$key|wall]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
}

sizes() { # key exe (the binary whose size is reported) 
  local key=$1 exe=$2 lib path total=0 count=0 list=""
  strip -o "$tmp/stripped.$key" "$exe"
  M[$key|size]=$(stat -c %s "$tmp/stripped.$key")
  while read -r lib path; do
    local s
    s=$(stat -L -c %s "$path")
    total=$((total + s)); count=$((count + 1))
    list+="    $(printf '%-28s %9s' "$lib" "$s")"$'\n'
  done < <(ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 } $1 ~ /^\// { print $1, $1 }')
  M[$key|libs]="$count / $total"
  M[$key|liblist]=$list
}

measure() { # key exe cli
  local key=$1 exe=$2 cli=$3
  log "measuring $key"
  run_client "$exe" 1
  if $CALLGRIND; then callgrind "$key" "$exe"; fi
  heap "$key" "$exe"
  latency "$key" "$exe"
  wall "$key" "$exe"
  sizes "$key" "$cli"
}

t_start=$(date +%s)
measure base "$baseline" "$baseline"
i=0
for b in "${builds[@]}"; do
  dir=${b#*|}
  measure "cw$i" "$dir/chatwire_bench" "$dir/chatwire"
  i=$((i + 1))
done

# ------------------------------------------------------------ the table
ratio() { # a b -> a/b with 2 decimals (or 3 below 0.1)
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
    if (a == "" || b == "" || b + 0 == 0) { print "-"; exit }
    r = a / b; if (r < 0.1) printf "%.3f\n", r; else printf "%.2f\n", r }'
}
row() { printf '| %-58s | %16s | %16s | %6s |\n' "$@"; }
row_n() { # label x metric
  local a=${M[$cw|$3]:-} b=${M[base|$3]:-}
  row "$1" "$(fmt_num "$a")" "$(fmt_num "$b")" "$(ratio "$a" "$b")"
}
row_v() { # label a b
  row "$1" "$(fmt_num "$2")" "$(fmt_num "$3")" "$(ratio "$2" "$3")"
}
fmt_num() { # 1234567 -> 1,234,567 (or n/a)
  local v=${1:-}
  [ -n "$v" ] || { echo "n/a"; return; }
  echo "$v" | sed -e ':a' -e 's/^\([-]*[0-9]\{1,\}\)\([0-9]\{3\}\)/\1,\2/' -e 'ta'
}

mode=full; $quick && mode=quick
echo
echo "chatwire vs libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2) ($(curl-config --ssl-backends 2>/dev/null)) + cJSON $(dpkg-query -W -f='${Version}' libcjson-dev 2>/dev/null | cut -d- -f1)" \
     "- scripts/bench.sh ($mode), $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m)"
echo "one kept-alive TLS connection to tests/server/chat_server.py (localhost, certificate $cert.pem), 512-byte answer ('$PROMPT'), one CA file"
i=0
for b in "${builds[@]}"; do
  label=${b%%|*}; dir=${b#*|}; cw=cw$i
  echo
  echo "### chatwire with $label ($dir) vs libcurl + cJSON"
  echo
  echo "TLS: chatwire ${M[$cw|tls]}, baseline ${M[base|tls]}"
  echo
  row "metric" "chatwire" "libcurl+cJSON" "ratio"
  printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 60))" "$(printf -- '-%.0s' $(seq 17)):" \
    "$(printf -- '-%.0s' $(seq 17)):" "$(printf -- '-%.0s' $(seq 7)):"
  if $CALLGRIND; then
    row_n "instructions, first request (process, CA, handshake, 1 req)" x cg1.total
    row_n "  TLS library" x cg1.tls
    row_n "  HTTP/JSON client" x cg1.client
    row_n "  libc" x cg1.libc
    row_n "  other (loader, app, other libraries)" x cg1.other
    row_n "instructions per kept-alive request (requests 2..$N_KEEP)" x cgk.total
    row_n "  TLS library" x cgk.tls
    row_n "  HTTP/JSON client" x cgk.client
    row_n "  libc" x cgk.libc
    row_n "  other (loader, app, other libraries)" x cgk.other
    if [ "$N_KEEP" -gt 10 ]; then # with few requests, handshake noise swamps it
      row_n "  cross-check: (I$N_KEEP - I1) / $((N_KEEP - 1)), two runs" x cgx.total
    fi
  fi
  row_n "heap: allocation calls, first request (whole process)" x mc1.allocs
  row_n "heap: allocation calls per kept-alive request" x mck.allocs
  row_n "heap: bytes allocated per kept-alive request" x mck.bytes
  if $MASSIF; then
    row_n "heap: peak, bytes (massif, $N_KEEP requests)" x massif.peak
  else
    row_n "heap: peak live, bytes (malloc counter, $N_KEEP requests)" x "mc$N_KEEP.peak_live"
  fi
  a=${M[$cw|lat]}; bl=${M[base|lat]}
  row "stream latency, us (median/min; see below)" "$a" "$bl" "$(ratio "${a%%/*}" "${bl%%/*}")"
  row_n "wall: $N_WALL requests, us (median of $WALL_RUNS)" x wall
  row_n "size: stripped binary, bytes (CLI / baseline_curl)" x size
  a=${M[$cw|libs]}; bl=${M[base|libs]}
  row "size: shared libraries loaded (count / bytes)" "$a" "$bl" "$(ratio "${a##* }" "${bl##* }")"
  a=$(( M[$cw|size] + ${a##* } )); bl=$(( M[base|size] + ${bl##* } ))
  row_v "size: binary + its shared libraries, bytes" "$a" "$bl"
  if [ -s "$tmp/top.$cw" ]; then
    echo
    echo "  costliest functions per kept-alive request (self instructions), chatwire:"
    cat "$tmp/top.$cw"
  fi
  echo
  echo "  shared libraries of $dir/chatwire:"
  printf '%s' "${M[$cw|liblist]}"
  i=$((i + 1))
done
if [ -s "$tmp/top.base" ]; then
  echo
  echo "  costliest functions per kept-alive request (self instructions), libcurl + cJSON:"
  cat "$tmp/top.base"
fi
echo
echo "  shared libraries of baseline_curl:"
printf '%s' "${M[base|liblist]}"
echo
echo "ratio = chatwire / baseline. stream latency: the client's CLOCK_MONOTONIC when its callback first"
echo "gets text, minus the server's first_event_ns, minus one pace interval ($PACE_MS ms; the first data: event"
echo "carries no text), over $N_STREAM streamed requests. Per kept-alive request: requests 2..$N_KEEP of one run,"
echo "between marks the clients set (callgrind dumps, malloc counter snapshots)."
echo "measured in $(( $(date +%s) - t_start )) s (builds not included)"
