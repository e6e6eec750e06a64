#!/usr/bin/env bash
# freertos-run.sh - build examples/freertos-lwip (chatwire on FreeRTOS +
# lwIP + mbedTLS, Cortex-M4F) and run it in QEMU mps2-an386, scenario by
# scenario, against the local test server over an emulated Ethernet link.
#
#   scripts/freertos-run.sh [--only NAME[,NAME...]] [--seed N] [--keep]
#                           [--no-build] [--list]
#
#   --only   run these scenarios (default: all, in the order below)
#   --seed   the frame relay's seed (default 1): a failing bad-link run is
#            replayed with the same seed
#   --keep   keep every scenario's log (default: only the failed ones)
#   --list   print the scenarios and what each proves
#
# Prints one line per scenario, "scenario NAME: ok" or "scenario NAME: FAIL
# reason", then "freertos: N/M scenarios ok" and a table of what the
# firmware measured (also in build-freertos/freertos-figures.txt). Exit 0
# when all passed, 1 on any failure, 77 when skipped (no FreeRTOS kernel,
# not root, no /dev/net/tun, a tool missing).
#
# The network (all of it inside a namespace made for the run, removed on
# exit, also on INT and TERM; nothing reaches another network):
#   namespace cwfr<pid>: lo, and the TAP cwfrtap<pid> 192.0.2.1/24
#   (TEST-NET-1) where chat_server.py listens (HTTPS, port 443, a
#   certificate for api.chatwire.test from the test CA) and dnsmasq answers
#   api.chatwire.test -> 192.0.2.1. The firmware is 192.0.2.2, static.
#   clean link: QEMU -nic tap on the TAP
#   bad link:   QEMU -netdev dgram (UDP on the namespace's loopback) <->
#               tests/freertos/frame_relay.py <-> the TAP, which delays,
#               drops, reorders, duplicates or rate-limits the frames
# Logs: build-freertos/logs/NAME.{log,server,relay,dns}.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build-freertos
only=""
seed=1
keep=0
build=1

# ------------------------------------------------------------ scenarios
# name | what it proves (--list, README). The definitions are in
# scenario_def below; a scenario that needs more than one boot gets a
# function of its own (run_NAME) instead, using boot() as often as needed.
all_scenarios=(stream no-stream keepalive starved netem-delay netem-loss
               netem-reorder netem-dup netem-slow netem-outage server-gone soak
               reboot-resume reboot-damaged reboot-expired reboot-foreign
               reboot-forgotten tools superloop)
declare -A proves=(
  [stream]="two streamed answers on one kept-alive connection, by name (lwIP DNS)"
  [no-stream]="two non-streamed answers (res.content)"
  [keepalive]="reuse of a kept connection, TLS resumption on a new one, a server-closed idle connection replaced without a retry"
  [starved]="the heartbeat's check catches starvation: run below the chat task, it misses beats and the firmware fails"
  [netem-delay]="300 ms RTT: handshake and answers complete"
  [netem-loss]="2 % loss each way with 300 ms RTT: TCP recovers, answers complete"
  [netem-reorder]="a quarter of the frames held back 40 ms (reordered): answers complete"
  [netem-dup]="10 % of the frames duplicated: answers complete, once each"
  [netem-slow]="20 kbit/s each way (NB-IoT-like): answers complete within the timeouts"
  [netem-outage]="a 10 s outage in the middle of a stream: the stream completes (idle timeout 30 s)"
  [server-gone]="the server killed mid-stream: CW_ERR_CLOSED with the text so far, then connect errors, no hang"
  [soak]="50 requests over a mildly bad link: no arena, lwIP pool, socket or heap growth, heartbeat on time"
  [reboot-resume]="a TLS session exported after boot 1 (a file stands in for flash) is imported at boot 2, which resumes it"
  [reboot-damaged]="a saved session with one bit flipped is refused as damaged: a full handshake, the chat succeeds"
  [reboot-expired]="a saved session older than its ticket lifetime is refused as expired: a full handshake"
  [reboot-foreign]="a session saved for another host name is not offered: a full handshake"
  [reboot-forgotten]="the server restarted between the boots (new ticket keys): it declines the session, a full handshake"
  [superloop]="three chats driven through the step API by a loop that yields a tick whenever a step would block (connect, TLS handshake, request, answer): the answers complete and every chat waited"
  [tools]="the device offers set_led and read_temperature; the model calls both (streamed, in OpenAI's shape), the firmware runs them and sends the results back, and the answer is text (not streamed)"
)

prompt_default="Hello from FreeRTOS on a Cortex-M4"
# 60 words: a streamed echo of 60 events, each its own TLS record (TCP
# joins some of them while the window is full), so that a bad link has
# more frames to spoil
prompt_long="Hello from FreeRTOS on a Cortex-M4: $(printf 'w%02d ' $(seq 1 60))"
prompt_long=${prompt_long% }
# 30 words paced 300 ms: a stream of ~9 s, cut by an outage or a kill
# after its 4th or 3rd word
prompt_paced="!mode:pace=300 $(printf 'word%d ' $(seq 1 30))"
prompt_paced=${prompt_paced% }

# Sets, for one scenario: fw (firmware words), prompt, link (tap|relay),
# relay (relay options), server (server options), qemu_timeout (s), action
# (outage|kill: done when the firmware prints its progress line),
# expect_chats (chat lines), verdict (the firmware's expected verdict).
scenario_def() {
  fw="scenario=mixed requests=2"; prompt=$prompt_default; link=tap; relay=""
  server=""; qemu_timeout=60; action=""; expect_chats=2; verdict=ok
  case $1 in
    stream) fw="scenario=stream requests=2" ;;
    no-stream) fw="scenario=no-stream requests=2" ;;
    keepalive)
      # the server closes a connection idle for 1.5 s; the firmware waits 3 s
      fw="scenario=keepalive wait=3000"; server="--idle-close-ms 1500"
      expect_chats=4 ;;
    starved) # the heartbeat at priority 1, below the chat task (2)
      fw="scenario=stream requests=2 hbprio=1"; verdict="FAIL heartbeat*" ;;
    netem-delay) link=relay; relay="--delay-ms 150"; prompt=$prompt_long ;;
    netem-loss) link=relay; relay="--delay-ms 150 --loss 0.02"; prompt=$prompt_long
      fw="scenario=mixed requests=6"; expect_chats=6; qemu_timeout=120 ;;
    netem-reorder) link=relay; relay="--delay-ms 10 --reorder 0.25 --reorder-ms 40"
      prompt=$prompt_long ;;
    netem-dup) link=relay; relay="--delay-ms 10 --dup 0.10"; prompt=$prompt_long ;;
    netem-slow) link=relay; relay="--rate-kbit 20 --delay-ms 20"; qemu_timeout=90
      fw="scenario=mixed requests=2 timeout=60000 idle=30000" ;;
    netem-outage)
      # Linux's retransmissions back off (0.2, 0.4, ... 6.4 s): the first
      # after a 10 s outage comes ~12.6 s after the first lost segment, so
      # the client's idle timeout (30 s) lets the stream complete
      link=relay; relay="--delay-ms 10 --outage-ms 10000"; prompt=$prompt_paced
      fw="scenario=stream requests=1 timeout=120000 idle=30000 mark=4"
      action=outage; qemu_timeout=120; expect_chats=1 ;;
    server-gone)
      prompt=$prompt_paced; fw="scenario=gone timeout=30000 idle=20000 mark=3"
      action=kill ;;
    soak) link=relay; relay="--delay-ms 5 --loss 0.01 --reorder 0.05 --reorder-ms 20"
      fw="scenario=soak requests=50"; prompt="soak"; expect_chats=50
      qemu_timeout=150 ;;
    reboot-*) # two boots: run_reboot below; boot 2 is the one checked
      fw="scenario=resume-load"; expect_chats=1 ;;
    superloop) fw="scenario=superloop requests=3"; expect_chats=3 ;;
    tools) fw="scenario=tools"; expect_chats=2
      prompt="!mode:tools=openai Turn the LED on and tell me how warm it is." ;;
    *) return 1 ;;
  esac
}

# ------------------------------------------------------------ options
die() { printf 'freertos-run: %s\n' "$*" >&2; exit 1; }
skip() { printf 'freertos-run: SKIPPED: %s\n' "$*" >&2; exit 77; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) [[ $# -ge 2 ]] || die "--only needs names"; only=$2; shift 2 ;;
    --seed) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--seed needs a number"; seed=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    --list)
      for s in "${all_scenarios[@]}"; do printf '%-14s %s\n' "$s" "${proves[$s]}"; done
      exit 0 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done
scenarios=("${all_scenarios[@]}")
if [[ -n "$only" ]]; then
  IFS=, read -r -a scenarios <<<"$only"
  for s in "${scenarios[@]}"; do
    scenario_def "$s" || die "unknown scenario '$s' (try --list)"
  done
fi

[[ $(id -u) -eq 0 ]] || skip "needs root (a network namespace and a TAP device)"
[[ -c /dev/net/tun ]] || skip "needs /dev/net/tun"
for t in ip qemu-system-arm python3 openssl dnsmasq timeout pgrep; do
  command -v "$t" >/dev/null 2>&1 || skip "$t not found (scripts/install-deps.sh)"
done

t_start=$(date +%s)
if [[ $build -eq 1 ]]; then
  rc=0
  mkdir -p "$out"
  bash "$root/scripts/freertos-build.sh" --out "$out" >"$out/build.log" 2>&1 || rc=$?
  [[ $rc -eq 77 ]] && { grep SKIPPED "$out/build.log" >&2; exit 77; }
  [[ $rc -eq 0 ]] || { cat "$out/build.log" >&2; die "build failed"; }
fi
elf=$out/chatwire-freertos.elf
[[ -f "$elf" ]] || die "$elf not built"

# ------------------------------------------------------------ certificates
certs=$out/certs
bash "$root/tests/server/make_certs.sh" "$certs"
host=api.chatwire.test
host2=api2.chatwire.test   # the same server by another name (reboot-foreign)
if ! openssl x509 -in "$certs/api.pem" -noout -checkend 86400 >/dev/null 2>&1 ||
   ! openssl x509 -in "$certs/api.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "$host2" ||
   ! openssl verify -CAfile "$certs/ca.pem" "$certs/api.pem" >/dev/null 2>&1; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$certs/api.key" 2>/dev/null
  openssl req -new -key "$certs/api.key" -subj "/CN=$host" -out "$certs/api.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:$host,DNS:$host2" >"$certs/api.ext"
  openssl x509 -req -in "$certs/api.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
    -set_serial "0x$(openssl rand -hex 8 | sed 's/^./4/')" -days 30 \
    -extfile "$certs/api.ext" -out "$certs/api.pem" 2>/dev/null
fi

# ------------------------------------------------------------ namespace
logs=$out/logs
mkdir -p "$logs"
ns=cwfr$$
tap=cwfrtap$$
pids=()
watchers=()
# shellcheck disable=SC2317  # called through the traps
cleanup() {
  local p
  for p in "${watchers[@]}" "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${watchers[@]}" "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" addr add 192.0.2.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up
# else the guest also receives the host's IPv6 router/MLD frames
ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$tap.disable_ipv6=1"

# DNS for the firmware: one name, nothing forwarded
rm -f "$logs/dns.log"
ip netns exec "$ns" timeout 1800 dnsmasq --no-daemon --conf-file=/dev/null --no-resolv \
  --no-hosts --listen-address=192.0.2.1 --bind-interfaces --user=root \
  --address="/$host/192.0.2.1" --address="/$host2/192.0.2.1" --log-queries --log-facility="$logs/dns.log" \
  --pid-file="$logs/dns.pid" 2>/dev/null &
pids+=($!)

# ------------------------------------------------------------ helpers
# Background processes run as "ip netns exec NS timeout S CMD": ip exec's
# timeout, so $! is timeout, which passes a signal on to CMD (a shell
# function or subshell in between would hide CMD from the kill).

# QEMU's clock: -icount shift=0 (one instruction = 1 ns of emulated time)
# with sleep=on. While the CPU works, the emulated clock counts
# instructions, so whatever the firmware measures of its own computing (the
# heartbeat's lateness, a handshake's duration) is an instruction count,
# independent of the host's load; while the CPU waits (the idle task's
# WFI), the clock follows the host's, so the network, the server's and the
# relay's real-time timers and the firmware's timeouts stay in step.
# Emulated time therefore lags the host's by the host's cost of each
# instruction (the firmware's timeouts fire late, never early). Without
# -icount, SysTick drops periods when the host lags; with sleep=off the
# idle clock leaps ahead of the network (a 3 s wait took 0.2 s: the
# server's 1.5 s idle close had not happened yet).
clock=(-icount shift=0,align=off,sleep=on)

# QEMU option values: a comma is written ",,"
qarg() { printf 'arg=%s' "${1//,/,,}"; }

# Waits (5 s at most) for FILE, which process PID writes once it is ready.
wait_file() { # FILE PID
  local _
  for _ in $(seq 100); do
    [[ -s "$1" ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

start_server() { # LOG ARGS...
  local log=$1; shift
  rm -f "$out/server.port" "$log"
  ip netns exec "$ns" timeout 1800 python3 "$root/tests/server/chat_server.py" --host 192.0.2.1 \
    --port 443 --port-file "$out/server.port" --tls-cert "$certs/api.pem" \
    --tls-key "$certs/api.key" --key test-key --event-log "$log" "$@" \
    >>"$log.stderr" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  wait_file "$out/server.port" "$server_pid"
}

start_relay() { # LOG ARGS...
  local log=$1; shift
  rm -f "$out/relay.ready"
  ip netns exec "$ns" timeout 1800 python3 "$root/tests/freertos/frame_relay.py" --tap "$tap" \
    --listen 127.0.0.1:10000 --qemu 127.0.0.1:10001 --seed "$seed" \
    --ready "$out/relay.ready" --log "$log" "$@" &
  relay_pid=$!
  pids+=("$relay_pid")
  wait_file "$out/relay.ready" "$relay_pid"
}

# Stops a process started here (each runs under timeout, which passes the
# signal on) and forgets its id, so that cleanup never signals an id that
# another process may have taken since.
stop_pid() { # PID
  local p=$1 i
  kill "$p" 2>/dev/null || true
  { wait "$p"; } 2>/dev/null || true   # (also bash's own "Killed" notice)
  for i in "${!pids[@]}"; do [[ ${pids[$i]} == "$p" ]] && unset "pids[$i]"; done
  for i in "${!watchers[@]}"; do [[ ${watchers[$i]} == "$p" ]] && unset "watchers[$i]"; done
  return 0
}

# When LOG shows PATTERN, run ACTION once (polled every 0.1 s, at most 5 min).
watch_for() { # LOG PATTERN ACTION...
  local log=$1 pattern=$2; shift 2
  ( for _ in $(seq 3000); do
      grep -q -- "$pattern" "$log" 2>/dev/null && { "$@"; exit 0; }
      sleep 0.1
    done ) &
  watcher_pid=$!
  watchers+=("$watcher_pid")
}

# One boot of the firmware: boot LOG TIMEOUT_S LINK FIRMWARE_WORDS... ;
# the prompt is $prompt. Sets boot_rc.
boot() {
  local log=$1 tmo=$2 how=$3; shift 3
  local semi net w
  semi="enable=on,target=native,arg=fw"
  for w in url=https://$host/v1 key=test-key "now=$(date +%s)" "$@"; do
    semi+=",$(qarg "$w")"
  done
  semi+=",$(qarg "prompt=$prompt")"
  if [[ $how == tap ]]; then
    net=(-nic "tap,ifname=$tap,script=no,downscript=no,model=lan9118")
  else
    net=(-netdev "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=10001,remote.type=inet,remote.host=127.0.0.1,remote.port=10000"
         -net "nic,netdev=n0,model=lan9118")
  fi
  # in the background, so that INT and TERM reach the trap at once
  ip netns exec "$ns" timeout "$tmo" qemu-system-arm -M mps2-an386 -nographic -monitor none \
    "${clock[@]}" -semihosting-config "$semi" "${net[@]}" -kernel "$elf" \
    >"$log" 2>&1 &
  local qemu=$!
  pids+=("$qemu")
  boot_rc=0
  # (quiet: bash reports the server that server-gone kills meanwhile)
  { wait "$qemu" || boot_rc=$?; } 2>/dev/null
  stop_pid "$qemu"
}

# ------------------------------------------------------------ checks
fails=()
fail() { fails+=("$*"); }
fwline() { grep -m 1 -- "$2" "$1" || true; }
field() { sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1" | head -n 1; }

check_common() { # LOG TIMEOUT
  local log=$1 tmo=$2 n line
  if [[ $boot_rc -eq 124 ]]; then fail "QEMU still running after ${tmo} s"; fi
  grep -q "fw: PANIC" "$log" && fail "$(grep -m 1 'fw: PANIC' "$log" | cut -c5-)"
  # shellcheck disable=SC2053  # $verdict may be a pattern
  [[ "$(grep -m 1 '^fw: verdict ' "$log")" == "fw: verdict "$verdict ]] ||
    fail "firmware: $(grep -m 1 'fw: verdict' "$log" | cut -c5- || echo 'no verdict')"
  [[ $boot_rc -eq $([[ $verdict == ok ]] && echo 0 || echo 1) ]] || fail "QEMU exit status $boot_rc"
  n=$(grep -c "^fw: chat [0-9]* rc=" "$log" || true)
  [[ $n -eq $expect_chats ]] || fail "$n chats, expected $expect_chats"
  tail -n "+$((dns_lines + 1))" "$logs/dns.log" | grep -q "query\[A\] $host from 192.0.2.2" ||
    fail "no DNS query for $host from the firmware"
  [[ $verdict == ok ]] || return 0
  line=$(fwline "$log" "^fw: heartbeat ")
  [[ "$(field "$line" missed)" == 0 ]] || fail "heartbeat: missed=$(field "$line" missed)"
  [[ -n "$(field "$line" max_late_ns)" && $(field "$line" max_late_ns) -lt 1000000 ]] ||
    fail "heartbeat: max_late_ns=$(field "$line" max_late_ns)"
}

# every answer printed must be the exact echo, and there must be `want`
check_answers() { # LOG WANT
  local log=$1 want=$2 n bad
  n=$(grep -c "^fw: answer [0-9]*: " "$log" || true)
  [[ $n -eq $want ]] || fail "$n answers, expected $want"
  # each line: "fw: answer N: Echo: PROMPT"
  bad=0
  while IFS= read -r l; do
    [[ "${l#fw: answer * }" == "Echo: $prompt" ]] || bad=$((bad + 1))
  done < <(grep "^fw: answer [0-9]*: " "$log")
  [[ $bad -eq 0 ]] || fail "$bad answers are not 'Echo: <prompt>'"
}

chat_field() { field "$(fwline "$1" "^fw: chat $2 rc=")" "$3"; }
expect_chat() { # LOG N FIELD=VALUE...
  local log=$1 n=$2 kv v; shift 2
  for kv in "$@"; do
    v=$(chat_field "$log" "$n" "${kv%%=*}")
    [[ "$v" == "${kv#*=}" ]] || fail "chat $n: ${kv%%=*}=$v, expected ${kv#*=}"
  done
}
relay_count() { # RELAYLOG DIRECTION KEY
  sed -n "s/^relay: $2: .*\\b$3=\\([0-9]*\\).*/\\1/p" "$1" | head -n 1
}
relay_total() { # RELAYLOG KEY: both directions
  echo $(( $(relay_count "$1" to_guest "$2") + $(relay_count "$1" to_host "$2") ))
}

check_scenario() { # NAME LOG
  local name=$1 log=$2 i ms s
  local ev=$logs/$name.server rl=$logs/$name.relay
  case $name in
    stream) check_answers "$log" 2
      for i in 1 2; do expect_chat "$log" $i rc=0 stream=1 done=1; done
      expect_chat "$log" 2 reused=1 ;;
    starved) check_answers "$log" 2
      [[ $(field "$(fwline "$log" "^fw: heartbeat ")" missed) -gt 0 ]] ||
        fail "the starved heartbeat missed no beat" ;;
    tools)
      expect_chat "$log" 1 rc=0 tool_calls=2
      expect_chat "$log" 2 rc=0 tool_calls=0
      grep -q '^fw: tool set_led({"on": true}) -> {"led": "on"}$' "$log" ||
        fail "set_led was not run with {\"on\": true}"
      grep -q '^fw: tool read_temperature(' "$log" || fail "read_temperature was not run"
      grep -q '^fw: led on$' "$log" || fail "the LED is not on" ;;
    no-stream) check_answers "$log" 2
      for i in 1 2; do expect_chat "$log" $i rc=0 stream=0; done ;;
    keepalive) check_answers "$log" 4
      expect_chat "$log" 1 rc=0 attempts=1 reused=0 resumed=0
      expect_chat "$log" 2 rc=0 attempts=1 reused=1 stale=0
      expect_chat "$log" 3 rc=0 attempts=1 reused=0 resumed=1
      expect_chat "$log" 4 rc=0 attempts=1 reused=0 stale=1 resumed=1
      # the server's view: requests 1+2 on connection 1 (full handshake),
      # 3 and 4 on connections 2 and 3, both resumed; 2 closed idle
      grep -q "^conn=1 req=2 .*status=200" "$ev" || fail "server: request 2 not on connection 1"
      [[ $(grep -c "^conn=[23] req=1 .*tls=TLSv1.3/[A-Z0-9_]*/resumed" "$ev") -eq 2 ]] ||
        fail "server: connections 2 and 3 were not resumed TLS sessions"
      grep -q "conn 2: idle/read timeout, closing" "$ev.stderr" ||
        fail "server: did not close the idle connection" ;;
    netem-delay|netem-loss|netem-reorder|netem-dup|netem-slow|soak)
      check_answers "$log" "$expect_chats"
      for ((i = 1; i <= expect_chats; i++)); do expect_chat "$log" $i rc=0; done
      [[ -s "$rl" ]] || { fail "no relay summary"; return; }
      case $name in
        netem-delay) # a full handshake takes two round trips at least
          ms=$(chat_field "$log" 1 ms); [[ ${ms:-0} -ge 600 ]] || fail "chat 1 took $ms ms, under 2 RTT" ;;
        netem-loss) [[ $(relay_total "$rl" lost) -gt 0 ]] || fail "the relay lost no frame" ;;
        netem-reorder) [[ $(relay_total "$rl" reordered) -gt 0 ]] || fail "the relay reordered no frame" ;;
        netem-dup) [[ $(relay_total "$rl" dup) -gt 0 ]] || fail "the relay duplicated no frame" ;;
        netem-slow) s=$(relay_count "$rl" to_guest max_queue_ms)
          [[ ${s:-0} -ge 100 ]] || fail "the rate limit queued nothing (max_queue_ms=$s)" ;;
        soak) # the same counts after request 50 as after request 1
          s=$(fwline "$log" "^fw: usage after=1 ")
          [[ -n "$s" && "${s#fw: usage after=1 }" == "$(fwline "$log" "^fw: usage after=last " |
                sed 's/^fw: usage after=last //')" ]] || fail "usage after request 50 differs from after request 1" ;;
      esac ;;
    netem-outage) check_answers "$log" 1
      expect_chat "$log" 1 rc=0 stream=1 done=1
      [[ $(sed -n 's/^relay: seed=.* outages=\([0-9]*\)$/\1/p' "$rl") == 1 ]] || fail "no outage"
      [[ $(relay_total "$rl" outage) -gt 0 ]] || fail "the outage dropped no frame"
      # the outage fell inside the stream: nothing arrived for most of its
      # 10 s (events are 300 ms apart), and the stream went on after it
      ms=$(chat_field "$log" 1 gap_ms); [[ ${ms:-0} -ge 9000 ]] || fail "longest pause in the stream $ms ms, not the outage" ;;
    reboot-*) check_answers "$log" 1
      expect_chat "$log" 1 rc=0 stream=1
      if [[ $name == reboot-resume ]]; then
        expect_chat "$log" 1 resumed=1
        # one server for both boots: connection 2 is boot 2's
        grep -q "^conn=1 req=1 .*tls=TLSv1.3/[A-Z0-9_]* " "$ev" ||
          fail "server: boot 1's connection was not a full TLS 1.3 handshake"
        grep -q "^conn=2 req=1 .*tls=TLSv1.3/[A-Z0-9_]*/resumed" "$ev" ||
          fail "server: boot 2's connection was not a resumed TLS 1.3 session"
      else
        # the firmware checked that the note starts with the reason
        expect_chat "$log" 1 resumed=0
      fi ;;
    server-gone)
      expect_chat "$log" 1 rc=-5 partial=1 attempts=1
      expect_chat "$log" 2 rc=-7 attempts=3
      grep -q "^fw: progress " "$log" || fail "no progress line"
      [[ -f "$out/killed" ]] || fail "the server was not killed" ;;
  esac
}

# ------------------------------------------------------------ run
# One boot with the scenario's link and firmware words (what a scenario
# does unless it has a function run_NAME of its own, e.g. two boots with
# state handed from the first to the second).
run_default() { # NAME LOG
  # shellcheck disable=SC2086
  boot "$2" "$qemu_timeout" "$link" $fw
}

# reboot-*: boot 1 makes a full handshake and keeps the TLS session in a
# file (semihosting stands in for flash); the blob is then spoilt as the
# scenario says; boot 2 imports it and must resume, or refuse it with the
# reason and do a full handshake. Boot 2's log is the one checked.
run_reboot() { # NAME LOG
  local name=$1 log=$2 session=$logs/$1.session expect=${1#reboot-} url1=""
  rm -f "$session"
  [[ $expect == resume ]] && expect=resumed
  [[ $name == reboot-foreign ]] && url1="url=https://$host2/v1"

  # shellcheck disable=SC2086
  boot "$log.boot1" "$qemu_timeout" "$link" scenario=resume-save "session=$session" $url1
  grep -q "^fw: verdict ok" "$log.boot1" && grep -q "^fw: session saved bytes=" "$log.boot1" ||
    fail "boot 1: $(grep -m 1 'fw: verdict' "$log.boot1" | cut -c5- || echo 'no verdict')"
  [[ -s "$session" && $(stat -c %s "$session") -gt 60 ]] || fail "boot 1 kept no session"
  case $name in
    reboot-damaged) python3 - "$session" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01     # one bit, inside mbedTLS's serialized session
open(p, "wb").write(b)
PY
      ;;
    reboot-expired) python3 - "$session" <<'PY'
import hashlib, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
saved = int.from_bytes(b[12:20], "little")
b[12:20] = (saved - 2 * 86400).to_bytes(8, "little")   # two days ago
b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()      # a checksum that fits
open(p, "wb").write(b)
PY
      ;;
    reboot-forgotten) # a new server process: new ticket keys, empty cache
      stop_pid "$server_pid"
      start_server "$logs/$name.server" || fail "the test server did not restart" ;;
  esac
  # shellcheck disable=SC2086
  boot "$log" "$qemu_timeout" "$link" $fw "session=$session" "expect=$expect"
  cat "$log.boot1" >>"$logs/$name.boots" 2>/dev/null || true
}
for _s in reboot-resume reboot-damaged reboot-expired reboot-foreign reboot-forgotten; do
  eval "run_${_s//-/_}() { run_reboot \"\$@\"; }"
done

run_scenario() { # NAME
  local name=$1 log=$logs/$1.log t0 body
  scenario_def "$name"
  rm -f "$log" "$logs/$name".* "$out/killed"
  fails=()
  t0=$(date +%s.%N)
  watcher_pid=""
  dns_lines=$( (wc -l <"$logs/dns.log") 2>/dev/null || echo 0)
  # shellcheck disable=SC2086
  if ! start_server "$logs/$name.server" $server; then
    fail "the test server did not start"
  elif [[ $link == relay ]] && ! start_relay "$logs/$name.relay" $relay; then
    fail "the frame relay did not start"
  else
    case $action in
      # signals to the relay and the server themselves (timeout's children:
      # timeout passes TERM on, but a USR1 would end timeout itself)
      outage) watch_for "$log" "^fw: progress " sh -c \
                "kill -USR1 \$(pgrep -P $relay_pid)" ;;
      # SIGKILL: no clean shutdown
      kill) watch_for "$log" "^fw: progress " sh -c \
              "kill -KILL \$(pgrep -P $server_pid) && touch '$out/killed'" ;;
    esac
    body=run_${name//-/_}
    declare -F "$body" >/dev/null || body=run_default
    "$body" "$name" "$log"
    [[ -n "$watcher_pid" ]] && stop_pid "$watcher_pid"
    [[ $link == relay ]] && stop_pid "$relay_pid"
    stop_pid "$server_pid"
    check_common "$log" "$qemu_timeout"
    check_scenario "$name" "$log"
  fi
  # the figures table reads these
  cp -f "$log" "$figs/$name.log" 2>/dev/null || true
  printf '%s %s %s\n' "$name" \
    "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" \
    "${#fails[@]}" >>"$figs/durations"
  if [[ ${#fails[@]} -eq 0 ]]; then
    echo "scenario $name: ok"
    ok=$((ok + 1))
    [[ $keep -eq 1 ]] || rm -f "$logs/$name".*
  else
    local reason
    reason=$(printf '%s; ' "${fails[@]}")
    echo "scenario $name: FAIL ${reason%; } (log: ${log#"$root"/}, seed $seed)"
  fi
}

figs=$out/figures
rm -rf "$figs"
mkdir -p "$figs"
ok=0
for s in "${scenarios[@]}"; do
  run_scenario "$s"
done
echo "freertos: $ok/${#scenarios[@]} scenarios ok"

# ------------------------------------------------------------ figures
python3 "$root/tests/freertos/figures.py" "$figs" "$(( $(date +%s) - t_start ))" \
  "${scenarios[@]}" >"$out/freertos-figures.txt" || true
cat "$out/freertos-figures.txt"
[[ $ok -eq ${#scenarios[@]} ]]
