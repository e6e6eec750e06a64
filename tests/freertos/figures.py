#!/usr/bin/env python3
"""figures.py - the tables scripts/freertos-run.sh prints after its run:
what the firmware measured in each scenario, then the worst case of each
figure over all of them.

  figures.py DIR TOTAL_SECONDS SCENARIO...

DIR holds SCENARIO.log (the firmware's output) and "durations" (lines
"NAME SECONDS FAILED_CHECKS"). Emulated time comes from QEMU -icount
shift=0 with sleep=on: while the CPU works, 1 ns = one instruction.
"""

import re
import sys


def ints(pattern, text):
    return [int(x) for x in re.findall(pattern, text)]


def main():
    figs, total, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    durations = {}
    try:
        for line in open(figs + "/durations"):
            n, secs, failed = line.split()
            durations[n] = (float(secs), int(failed))
    except OSError:
        pass
    logs = {}
    for n in names:
        try:
            logs[n] = open("%s/%s.log" % (figs, n), errors="replace").read()
        except OSError:
            pass

    print("Per scenario (emulated time: QEMU -icount shift=0,sleep=on; busy = 1 ns per instruction)")
    fmt = "%-14s %6s %6s %5s %10s %7s %7s %12s %10s %10s"
    print(fmt % ("scenario", "result", "wall s", "chats", "emulated", "beats", "missed",
                 "max late ns", "chat stack", "arena peak"))
    for n in names:
        t = logs.get(n, "")
        secs, failed = durations.get(n, (None, None))
        beats = ints(r"fw: heartbeat .* beats=(\d+)", t)
        missed = ints(r"fw: heartbeat .* missed=(\d+)", t)
        late = ints(r"fw: heartbeat .* max_late_ns=(\d+)", t)
        stack = re.search(r"fw: stack task=chat free_min=(\d+) of=(\d+)", t)
        arena = ints(r"fw: arena peak=(\d+)", t)
        ticks = ints(r"fw: clock ticks=(\d+)", t)
        print(fmt % (n, "-" if failed is None else ("ok" if failed == 0 else "FAIL"),
                     "-" if secs is None else "%.1f" % secs,
                     len(re.findall(r"^fw: chat \d+ rc=0 ", t, re.M)),
                     "%d ms" % ticks[0] if ticks else "-",
                     beats[0] if beats else "-", missed[0] if missed else "-",
                     late[0] if late else "-",
                     int(stack.group(2)) - int(stack.group(1)) if stack else "-",
                     arena[0] if arena else "-"))
    print("(chats: answered; chat stack: bytes of the chat task's stack ever used; "
          "wall s: the scenario's host time, boot to exit; the whole run took %s s)" % total)

    # the worst case of the runs that passed their own checks (not the
    # starved heartbeat's, which fails them on purpose)
    every = "\n".join(t for t in logs.values() if re.search(r"^fw: verdict ok$", t, re.M))
    if not every:
        return 0
    print()
    print("Worst case over the scenarios whose firmware verdict is ok")
    stacks = {}
    for task, free, size in re.findall(r"fw: stack task=(\S+) free_min=(\d+) of=(\d+)", every):
        used = int(size) - int(free)
        stacks[task] = (max(used, stacks.get(task, (0, 0))[0]), int(size))
    for task, (used, size) in stacks.items():
        print("  stack %-10s %6d of %6d bytes used (uxTaskGetStackHighWaterMark)" % (task, used, size))
    msp = ints(r"fw: stack msp peak=(\d+)", every)
    if msp:
        print("  stack %-10s %6d of %6s bytes used (painted)" % (
            "MSP/ISRs", max(msp), re.search(r"fw: stack msp peak=\d+ of=(\d+)", every).group(1)))
    heap = ints(r"fw: heap free=\d+ min_ever=(\d+)", every)
    size = re.search(r"fw: heap free=\d+ min_ever=\d+ of=(\d+)", every)
    if heap:
        print("  FreeRTOS heap: %d of %s bytes free at the least (xPortGetMinimumEverFreeHeapSize)"
              % (min(heap), size.group(1)))
    arena = ints(r"fw: arena peak=(\d+)", every)
    asize = re.search(r"fw: arena peak=\d+ blocks=\d+ current=\d+ of=(\d+)", every)
    if arena:
        print("  mbedTLS arena: peak %d of %s bytes (cw_tls_mcu_arena_peak)"
              % (max(arena), asize.group(1)))
    late = ints(r"fw: heartbeat .* max_late_ns=(\d+)", every)
    missed = ints(r"fw: heartbeat .* missed=(\d+)", every)
    beats = ints(r"fw: heartbeat .* beats=(\d+)", every)
    if late:
        print("  heartbeat (10 ms, highest priority): %d beats, %d missed, at most %d ns after its tick"
              % (sum(beats), sum(missed), max(late)))
    mem = ints(r"fw: lwip mem used=\d+ max=(\d+)", every)
    memav = re.search(r"fw: lwip mem used=\d+ max=\d+ avail=(\d+)", every)
    memerr = ints(r"fw: lwip mem used=\d+ max=\d+ avail=\d+ err=(\d+)", every)
    if mem:
        print("  lwIP heap: max %d of %s bytes, %d errors" % (max(mem), memav.group(1), sum(memerr)))
    pools = {}
    for name, used, mx, avail, err in re.findall(
            r"fw: lwip pool=(\S+) used=(\d+) max=(\d+) avail=(\d+) err=(\d+)", every):
        p = pools.setdefault(name, [0, 0, int(avail), 0])
        p[0] = max(p[0], int(used))
        p[1] = max(p[1], int(mx))
        p[3] += int(err)
    print("  lwIP pools, used at the end / max / avail / err (MEMP_STATS):")
    for name, (used, mx, avail, err) in pools.items():
        print("    %-16s %3d / %3d / %3d / %d" % (name, used, mx, avail, err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
