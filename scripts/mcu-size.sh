#!/usr/bin/env bash
# mcu-size.sh - flash and RAM of the Cortex-M4 firmware (examples/qemu-mps2/),
# as linked (--gc-sections), in one table.
#
#   scripts/mcu-size.sh [--check] [--budget BYTES] [--build] [--out DIR]
#   scripts/mcu-size.sh --freertos [--build] [--out DIR]
#
# Flash and static RAM per part come from the linker map
# (build-mcu/chatwire-mps2.map): every input section the link kept, summed
# by object file, so unused functions do not count. Parts: chatwire (src/core, src/client
# but cw_jsmn.c, one row per object, as the firmware builds it with
# examples/qemu-mps2/cw_config_small.h; then one row for the same firmware
# built with chatwire's default options, in DIR/full), jsmn (cw_jsmn.c, a
# dependency), the TLS port (cw_tls.c), the MCU glue
# (ports/mbedtls/mcu), mbedTLS, trust anchors (public roots + test CA), the
# example firmware, and newlib-nano/libgcc/rdimon.
# RAM: sizeof of the caller-placed structures on the target (compile time),
# the firmware's buffers (nm), the mbedTLS arena peak and the stack peak
# measured in QEMU (build-mcu/run-tls1.*.log from scripts/mcu-run.sh, when
# present), and the largest stack frames from -fstack-usage.
#
# The firmware is built (scripts/mcu-build.sh) only when it is missing, or
# with --build; run scripts/mcu-run.sh first so that the measured arena and
# stack peaks belong to the same build.
#
# --check: exit 1 when chatwire's own flash (text + rodata + data of src/core, src/client
# but jsmn, as linked, in the firmware's cw_config_small.h build) is over the
# budget, or sizeof(cw_client_t) is over 1 KiB. Without it, the script only
# reports.
# --budget BYTES: the flash budget (default 11520, the small profile's
# gate; scripts/test.sh checks it).
# --freertos: the table for examples/freertos-lwip instead
# (build-freertos/chatwire-freertos.map; built by scripts/freertos-build.sh
# when missing): one row per part, as its Makefile places the objects
# (chatwire, FreeRTOS kernel, lwIP, LAN9118 driver, mbedTLS, trust anchors,
# then the rest: the transport ports, the firmware, newlib-nano/libgcc),
# and the largest objects in RAM.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=""
check=0
budget=11520
build=0
mode=mcu
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) check=1; shift ;;
    --freertos) mode=freertos; shift ;;
    --budget) budget=$2; shift 2 ;;
    --build) build=1; shift ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "mcu-size: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# chatwire's sources: the list the builds compile (scripts/mcu-common.sh)
# shellcheck source=scripts/mcu-common.sh
source "$root/scripts/mcu-common.sh"
cw_objs=$(for f in "${cw_srcs[@]}"; do basename "$f" .c; done | tr '\n' ' ')

# absolute, as the linker map names every object: a relative DIR would match
# none of them (and chatwire would count 0 bytes)
if [[ -z "$out" ]]; then
  out=$root/build-mcu
  [[ $mode == freertos ]] && out=$root/build-freertos
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [[ $mode == freertos ]]; then
  if [[ $build -eq 1 || ! -f "$out/chatwire-freertos.map" ]]; then
    rc=0
    bash "$root/scripts/freertos-build.sh" --out "$out" >/dev/null 2>"$out/size-build.log" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$out/size-build.log" >&2; exit "$rc"; }
  fi
  exec python3 - "$root" "$out" "$cw_objs" <<'EOF'
import os, subprocess, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
from mcu_map import parse_map, KINDS

root, out, cw_objs = sys.argv[1:4]
mapf = out + "/chatwire-freertos.map"
cw_objs = set(o + ".o" for o in cw_objs.split())
obj = out + "/obj/"

def part_of(path):
    if "libmbedtls_mcu.a(" in path:
        return "mbedtls"
    if path.startswith(obj):
        return path[len(obj):].split("/")[0]
    return "libc"

sizes, paths = parse_map(mapf, part_of)
# every object of chatwire's sources under obj/chatwire/, and some there:
# else the rows are wrong (as a relative DIR once made them), so fail
ours = [p for p in paths if os.path.basename(p) in cw_objs]
if not ours or any(part_of(p) != "chatwire" for p in ours):
    sys.exit("mcu-size: %s: chatwire's objects are not all under %schatwire/" % (mapf, obj))

rows = [("chatwire (src/core, src/client, default options)", "chatwire"),
        ("FreeRTOS-Kernel V11.3.0 (tasks, queue, list, heap_4, port)", "kernel"),
        ("lwIP 2.2.1 (IPv4, TCP, UDP, DNS, sockets, sys_arch)", "lwip"),
        ("LAN9118 driver (lan9118.c)", "driver"),
        ("mbedTLS 3.6.6", "mbedtls"),
        ("trust anchors (7 public roots + test CA)", "anchors"),
        ("the rest:", None),
        ("  ports: cw_lwip, cw_tls, cw_tls_mcu", "port"),
        ("  firmware: app, scenarios, heartbeat, console...", "fw"),
        ("  newlib-nano, libgcc", "libc")]
fmt = "%-58s %7s %7s %5s %7s %7s"
line = fmt % ("-" * 58, "-" * 7, "-" * 7, "-" * 5, "-" * 7, "-" * 7)
print("chatwire on FreeRTOS + lwIP, Cortex-M4F (QEMU mps2-an386): "
      "arm-none-eabi-gcc -Os, newlib-nano, --gc-sections")
print("flash = text + rodata + data, bytes, from %s" % os.path.relpath(mapf, root))
print()
print(fmt % ("FLASH / static RAM", "text", "rodata", "data", "bss", "flash"))
print(line)
tot = dict.fromkeys(KINDS, 0)
for d in sizes.values():
    for k in KINDS:
        tot[k] += d[k]
for label, part in rows:
    if part is None:
        print(label)
        continue
    d = sizes.get(part, dict.fromkeys(KINDS, 0))
    print(fmt % (label, d["text"], d["rodata"], d["data"], d["bss"],
                 d["text"] + d["rodata"] + d["data"]))
print(line)
print(fmt % ("total firmware", tot["text"], tot["rodata"], tot["data"], tot["bss"],
             tot["text"] + tot["rodata"] + tot["data"]))

what = {"ucHeap": "FreeRTOS heap_4: task stacks, queues, semaphores",
        "arena": "mbedTLS arena (MBEDTLS_MEMORY_BUFFER_ALLOC_C)",
        "chat": "cw_client_t + cw_tls_t + cw_lwip_t + result + answer",
        "work_buf": "chatwire work buffer (JSON tokens + one event)",
        "io_buf": "chatwire io buffer",
        "session_blob": "a TLS session to keep across a reboot (reboot-*)",
        "ram_heap": "lwIP heap (MEM_SIZE)",
        "memp_memory_PBUF_POOL_base": "lwIP PBUF_POOL (24 x 512 B)",
        "memp_memory_TCP_SEG_base": "lwIP TCP_SEG pool",
        "memp_memory_TCP_PCB_base": "lwIP TCP_PCB pool"}
syms = []
nm = subprocess.run(["arm-none-eabi-nm", "-S", out + "/chatwire-freertos.elf"],
                    capture_output=True, text=True, check=True).stdout
for l in nm.splitlines():
    f = l.split()
    if len(f) == 4 and f[2] in "bBdD":
        syms.append((int(f[1], 16), f[3]))
print()
print("%-30s %7s  %s" % ("largest objects in RAM", "bytes", ""))
print("%-30s %7s  %s" % ("-" * 30, "-" * 7, "-" * 40))
for size, name in sorted(syms, reverse=True)[:10]:
    print("%-30s %7d  %s" % (name, size, what.get(name, "")))
print("plus the main stack above .bss (reset, then interrupts): FW_STACK_SIZE, "
      "examples/freertos-lwip/Makefile")
EOF
fi
if [[ $build -eq 1 || ! -f "$out/chatwire-mps2.elf" ]]; then
  bash "$root/scripts/mcu-build.sh" --out "$out" >/dev/null 2>"$out/size-build.log" ||
    { cat "$out/size-build.log" >&2; exit 1; }
fi
# the same firmware with chatwire's default options (every feature), for the
# row that shows what cw_config_small.h saves
if [[ $build -eq 1 || ! -f "$out/full/chatwire-mps2.map" ]]; then
  bash "$root/scripts/mcu-build.sh" --out "$out/full" --cw-config none \
    --mbedtls-dir "$out/mbedtls" --ca "$out/certs/ca.pem" \
    >/dev/null 2>"$out/size-build-full.log" ||
    { cat "$out/size-build-full.log" >&2; exit 1; }
fi
elf=$out/chatwire-mps2.elf
map=$out/chatwire-mps2.map

# sizeof on the target, at compile time (nm -S of char arrays)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-mcu-size.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/sizes.c" <<'EOF'
#include "chatwire.h"
#include "cw_tls.h"
char cw_sizeof_client[sizeof(cw_client_t)];
char cw_sizeof_result[sizeof(cw_result_t)];
char cw_sizeof_tls[sizeof(cw_tls_t)];
EOF
arm-none-eabi-gcc -std=c99 -Os -mcpu=cortex-m4 -mthumb -mfloat-abi=hard \
  -mfpu=fpv4-sp-d16 -fno-common \
  -DMBEDTLS_CONFIG_FILE='"cw_mbedtls_config.h"' -I"$root/include" \
  -I"$root/ports/mbedtls" -I"$root/ports/mbedtls/mcu" \
  -I"${CW_MBEDTLS_SRC:-$root/third_party/src/mbedtls-3.6.6}/include" \
  -c "$tmp/sizes.c" -o "$tmp/sizes.o"
arm-none-eabi-nm -S --defined-only "$tmp/sizes.o" >"$tmp/sizes.nm"
arm-none-eabi-nm -S --defined-only "$elf" >"$tmp/elf.nm"
cat "$out"/obj/*.su "$out"/mbedtls/obj/*.su 2>/dev/null >"$tmp/all.su" || true

python3 - "$root" "$out" "$map" "$tmp" "$check" "$budget" "$cw_objs" <<'EOF'
import glob, os, re, sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
from mcu_map import parse_map as parse_map_parts

root, out, mapf, tmp, check, budget, cw_objs = sys.argv[1:8]
check = check == "1"
budget = int(budget)
# cw_jsmn.c only instantiates jsmn (libjsmn-dev): a dependency, in a row of
# its own like mbedTLS, not part of chatwire's own flash
src_objs = sorted(o + ".o" for o in cw_objs.split() if o != "cw_jsmn")

def part_of(path, out):
    base = os.path.basename(path)
    if "libmbedtls_mcu.a(" in path:
        return "mbedtls"
    if path.startswith(out + "/obj/"):
        if base in src_objs:
            return "cw:" + base
        if base == "cw_jsmn.o":
            return "jsmn"
        if base == "cw_tls.o":
            return "tls"
        if base == "cw_tls_mcu.o":
            return "glue"
        if base in ("trust_anchors.o", "test_ca.o"):
            return "anchors"
        if base.startswith("fw_"):
            return "fw"
    return "libc"

def parse_map(mapf, out):
    out = os.path.realpath(out) # the map names objects by their real paths
    sizes, paths = parse_map_parts(mapf, lambda path: part_of(path, out))
    # objects built from chatwire's sources that the attribution missed:
    # then every row would be wrong, so the script fails instead
    stray = [p for p in paths
             if part_of(p, out) == "libc" and os.path.basename(p) in src_objs]
    if stray:
        sys.exit("mcu-size: %s: chatwire objects not under %s/obj: %s"
                 % (mapf, out, ", ".join(stray)))
    return sizes

sizes = parse_map(mapf, out)

def get(p):
    return sizes.get(p, {"text": 0, "rodata": 0, "data": 0, "bss": 0})

def nm_size(f, sym):
    for l in open(f):
        parts = l.split()
        if len(parts) == 4 and parts[3] == sym:
            return int(parts[1], 16)
    return None

rows = []
def row(name, d, indent=""):
    flash = d["text"] + d["rodata"] + d["data"]
    rows.append((indent + name, d["text"], d["rodata"], d["data"], d["bss"], flash))

def chatwire_total(sizes):
    """chatwire's own sections (src/core, src/client but jsmn), summed."""
    total = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for o in src_objs:
        for k in total:
            total[k] += sizes.get("cw:" + o, {}).get(k, 0)
    return total

cw_total = chatwire_total(sizes)
row("chatwire, cw_config_small.h", cw_total)
# resolved: scripts/mcu-options.sh links DIR/full to the default build's,
# and the map names that build's objects by their real paths
full_dir = os.path.realpath(out + "/full")
full_map = full_dir + "/chatwire-mps2.map"
full_total = None
if os.path.exists(full_map):
    full_total = chatwire_total(parse_map(full_map, full_dir))

for o in src_objs:
    row(o[:-2], get("cw:" + o), "  ")
if full_total:
    row("chatwire, default options", full_total)
row("jsmn 1.1.0 (src/core/cw_jsmn.c)", get("jsmn"))
row("cw_tls (TLS port)", get("tls"))
row("cw_tls_mcu (glue)", get("glue"))
row("mbedTLS 3.6.6", get("mbedtls"))
nta = 0
try:
    nta = open(out + "/gen/trust_anchors.c").read().count('{ "')
except OSError:
    pass
row("trust anchors (%d + test CA)" % nta, get("anchors"))
row("firmware (example)", get("fw"))
row("newlib-nano, libgcc, rdimon", get("libc"))
tot = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
for p, d in sizes.items():
    for k in tot:
        tot[k] += d[k]
row("total firmware", tot)

print("chatwire on Cortex-M4 (QEMU mps2-an386): arm-none-eabi-gcc -Os -mthumb "
      "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16, newlib-nano, --gc-sections")
print("flash = text + rodata + data; bytes; from %s" % os.path.relpath(mapf, root))
print()
fmt = "%-30s %8s %8s %6s %7s %8s"
print(fmt % ("FLASH / static RAM", "text", "rodata", "data", "bss", "flash"))
print(fmt % ("-" * 30, "-" * 8, "-" * 8, "-" * 6, "-" * 7, "-" * 8))
for r in rows:
    if r[0] == "total firmware":
        print(fmt % ("-" * 30, "-" * 8, "-" * 8, "-" * 6, "-" * 7, "-" * 8))
    print(fmt % r)

client = nm_size(tmp + "/sizes.nm", "cw_sizeof_client")
result = nm_size(tmp + "/sizes.nm", "cw_sizeof_result")
tlsz = nm_size(tmp + "/sizes.nm", "cw_sizeof_tls")
elfnm = tmp + "/elf.nm"
io = nm_size(elfnm, "io_buf")
work = nm_size(elfnm, "work_buf")
arena = nm_size(elfnm, "arena")

def from_logs(pat):
    found = []
    for f in sorted(glob.glob(out + "/run-tls1.*.log")):
        for l in open(f, errors="replace"):
            m = re.search(pat, l)
            if m:
                found.append((os.path.basename(f)[7:-4], int(m.group(1))))
    return found

peaks = from_logs(r"arena_peak (\d+) bytes")
stacks = from_logs(r"stack_peak (\d+) bytes")
hs = from_logs(r"handshake (\d+) ms")

su = []
for l in open(tmp + "/all.su", errors="replace"):
    parts = l.rstrip("\n").split("\t")
    if len(parts) >= 2 and parts[1].isdigit():
        su.append((int(parts[1]), parts[0].split(":")[-1], parts[0].split(":")[0],
                   parts[2] if len(parts) > 2 else ""))
su.sort(reverse=True)

def cw_su():
    return [s for s in su if os.path.basename(s[2]).replace(".c", ".o") in src_objs]

print()
fmt2 = "%-30s %10s  %s"
print(fmt2 % ("RAM", "bytes", "note"))
print(fmt2 % ("-" * 30, "-" * 10, "-" * 40))
print(fmt2 % ("sizeof(cw_client_t)", client, "client context (caller-placed)"))
print(fmt2 % ("sizeof(cw_result_t)", result, "result (caller-placed)"))
print(fmt2 % ("sizeof(cw_tls_t)", tlsz, "TLS transport state (caller-placed)"))
print(fmt2 % ("io buffer", io, "example's io_buf"))
print(fmt2 % ("work buffer", work, "example's work_buf (2 KiB tokens + 2 KiB event)"))
print(fmt2 % ("mbedTLS arena (reserved)", arena, "example's static arena"))
if peaks:
    for v, p in peaks:
        print(fmt2 % ("mbedTLS arena peak, TLS " + v, p, "measured in QEMU (MBEDTLS_MEMORY_DEBUG)"))
else:
    print(fmt2 % ("mbedTLS arena peak", "-", "run scripts/mcu-run.sh first"))
if stacks:
    for v, p in stacks:
        print(fmt2 % ("stack peak, TLS " + v, p, "measured in QEMU by painting"))
else:
    print(fmt2 % ("stack peak", "-", "run scripts/mcu-run.sh first"))
cs = cw_su()
if cs:
    s = cs[0]
    print(fmt2 % ("largest chatwire frame", s[0], "%s (%s), -fstack-usage" % (s[1], os.path.basename(s[2]))))
if su:
    s = su[0]
    print(fmt2 % ("largest frame overall", s[0], "%s (%s), -fstack-usage" % (s[1], os.path.basename(s[2]))))
# chatwire's own worst stack path, from the -fcallgraph-info=su call graphs
# of src/core, src/client: direct calls only (the transport, the parsers' callbacks and
# the user's on_delta are called through pointers and are not included).
nodes, edges = {}, {}
for f in glob.glob(out + "/obj/*.ci"):
    if os.path.basename(f)[:-3] + ".o" not in src_objs:
        continue
    for l in open(f, errors="replace"):
        m = re.match(r'node: \{ title: "([^"]+)" label: "[^"]*?(\d+) bytes \(static\)', l)
        if m:
            nodes[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', l)
        if m and m.group(2) != "__indirect_call":
            edges.setdefault(m.group(1), set()).add(m.group(2))
memo = {}
def worst(n, seen=()):
    if n in memo:
        return memo[n]
    if n in seen:
        return (0, [n + " (recursion)"])
    best = (0, [])
    for t in edges.get(n, ()):
        w = worst(t, seen + (n,))
        if w[0] > best[0]:
            best = w
    r = (nodes.get(n, 0) + best[0], [n.split(":")[-1]] + best[1])
    memo[n] = r
    return r
if "cw_chat" in nodes:
    w, path = worst("cw_chat")
    print(fmt2 % ("chatwire worst path (static)", w,
                  " > ".join(p for p in path if p) + "; direct calls only"))
for v, h in hs:
    print(fmt2 % ("handshake time, TLS " + v, str(h) + " ms", "guest clock, UART at ~20 KiB/s host->guest"))

fail = []
cw_flash = cw_total["text"] + cw_total["rodata"] + cw_total["data"]
if cw_flash > budget:
    fail.append("chatwire's own flash is %d bytes, over the %d-byte budget" % (cw_flash, budget))
if client is not None and client > 1024:
    fail.append("sizeof(cw_client_t) is %d bytes, over the 1 KiB budget" % client)
print()
if fail:
    for f in fail:
        print(("mcu-size: FAIL: " if check else "mcu-size: over budget: ") + f)
else:
    print("mcu-size: within budget (chatwire flash %d <= %d, cw_client_t %s <= 1024)" % (cw_flash, budget, client))
sys.exit(1 if (check and fail) else 0)
EOF
