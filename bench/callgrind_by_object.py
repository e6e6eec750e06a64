#!/usr/bin/env python3
"""callgrind_by_object.py - split a callgrind profile's instructions into
TLS library / HTTP+JSON client / libc / other, for scripts/bench.sh.

    callgrind_by_object.py [--exe PATH] [--top N] [--per N] callgrind.out.PID

Reads the callgrind output format directly (compressed or not) and adds up
the *self* cost (exclusive: the cost line after each calls= line is the
callee's inclusive cost and is skipped) of every function, keyed by its ELF
object (ob=) and source file (fl=). The sum is checked against the file's
totals/summary line. Prints one line:

    total=N tls=N client=N libc=N other=N

and, with --top N, the N costliest functions of each group on stderr,
divided by --per N (e.g. the number of requests in the profile).

Groups:
  tls     libmbedtls/x509/crypto, libssl, libcrypto, libgnutls, libnettle,
          libhogweed, libgmp; in the executable itself (mbedTLS linked
          statically): functions whose file is not chatwire's or bench's
          (a static mbedTLS has no debug information, so its file is "???"),
          or whose name starts with mbedtls_ / psa_
  client  libcurl, libcjson; in the executable: chatwire's src/ and ports/,
          and jsmn (compiled into chatwire by src/core/cw_jsmn.c)
  libc    libc.so, libm.so
  other   the dynamic loader, the application (bench/*.c), every other
          library (libz, libnghttp2, libidn2, ...), and callgrind's
          "below main"
"""
import os
import re
import sys
from collections import defaultdict

TLS_LIBS = re.compile(r"lib(mbedtls|mbedx509|mbedcrypto|ssl|crypto|gnutls|"
                      r"nettle|hogweed|gmp)\b")
CLIENT_LIBS = re.compile(r"lib(curl|cjson)\b")
LIBC_LIBS = re.compile(r"lib(c|m)[.-]")


def classify(ob, fl, fn, exe):
    base = os.path.basename(ob)
    if TLS_LIBS.match(base):
        return "tls"
    if CLIENT_LIBS.match(base):
        return "client"
    if LIBC_LIBS.match(base):
        return "libc"
    is_exe = (exe is not None and os.path.realpath(ob) == os.path.realpath(exe))
    if not is_exe:
        return "other"
    if "/bench/" in fl:
        return "other"
    if "/src/core/" in fl or "/src/client/" in fl or "/ports/" in fl or \
            "/examples/" in fl:
        return "client"
    if fn.startswith("cw_jsmn_") or fl.endswith("/jsmn.h"):
        return "client"  # jsmn, compiled into chatwire (src/core/cw_jsmn.c)
    if fn.startswith(("mbedtls_", "psa_")) or "mbedtls" in fl or fl == "???":
        return "tls"
    return "other"


def parse(path):
    """Returns ({(ob, fl, fn): self Ir}, total from the file)."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    space = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl",
             "cfi": "fl", "cfl": "fl", "fn": "fn", "cfn": "fn"}
    cost = defaultdict(int)
    ob = fl = fn = "???"
    ir_index = None
    npos = 1
    skip_next = False
    total = None
    name_re = re.compile(r"^\((\d+)\)(?: (.*))?$")

    def name(kind, value):
        m = name_re.match(value)
        if not m:
            return value
        table = names[space[kind]]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
            return m.group(2)
        return table.get(m.group(1), "???")

    with open(path, "r", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                vals = parts[npos:]
                if ir_index < len(vals):
                    cost[(ob, fl, fn)] += int(vals[ir_index])
                continue
            key, _, value = line.partition("=")
            if key in space and _:
                v = name(key, value)
                if key == "ob":
                    ob = v
                elif key == "fl":
                    fl = v
                elif key == "fn":
                    fn = v
                # fi/fe (inlined files) and c* (callees) do not move the
                # cost to another function
                continue
            if key == "calls":
                skip_next = True
                continue
            if line.startswith("events:"):
                events = line.split()[1:]
                ir_index = events.index("Ir")
            elif line.startswith("positions:"):
                npos = len(line.split()) - 1
            elif line.startswith(("summary:", "totals:")):
                total = int(line.split()[1 + (ir_index or 0)])
    return cost, total


def main(argv):
    exe = None
    top = 0
    per = 1
    args = []
    i = 1
    while i < len(argv):
        if argv[i] == "--exe":
            exe = argv[i + 1]
            i += 2
        elif argv[i] == "--top":
            top = int(argv[i + 1])
            i += 2
        elif argv[i] == "--per":
            per = max(1, int(argv[i + 1]))
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    cost, total = parse(args[0])
    groups = defaultdict(int)
    per_fn = defaultdict(lambda: defaultdict(int))
    for (ob, fl, fn), ir in cost.items():
        g = classify(ob, fl, fn, exe)
        groups[g] += ir
        per_fn[g][(os.path.basename(ob), fn)] += ir
    s = sum(groups.values())
    if total is not None and total != s:
        sys.stderr.write("callgrind_by_object: parsed %d instructions, the "
                         "file says %d\n" % (s, total))
        return 1
    print("total=%d tls=%d client=%d libc=%d other=%d" %
          (s, groups["tls"], groups["client"], groups["libc"],
           groups["other"]))
    if top > 0:
        for g in ("tls", "client", "libc", "other"):
            items = sorted(per_fn[g].items(), key=lambda kv: -kv[1])[:top]
            sys.stderr.write("  %-7s %12d\n" % (g, groups[g] // per))
            for (ob, fn), ir in items:
                sys.stderr.write("          %12d  %-24s %s\n"
                                 % (ir // per, ob[:24], fn))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
