#!/usr/bin/env python3
"""frame_relay.py - a bad link between QEMU's NIC and a TAP device.

QEMU sends and receives Ethernet frames as UDP datagrams (-netdev dgram);
this relay forwards them to and from a TAP device it opens itself
(/dev/net/tun, IFF_TAP | IFF_NO_PI), and on the way delays, drops, reorders,
duplicates and rate-limits them, the way Linux's netem and tbf would (this
machine's kernel has no netem). Both directions are impaired alike, each
with its own queue and its own random generator, seeded from --seed: the
n-th frame of a direction meets the same fate in every run with the same
seed and the same traffic, so a failing run can be replayed.

  frame_relay.py --tap TAP --listen 127.0.0.1:PORT --qemu 127.0.0.1:PORT
                 [--delay-ms D] [--jitter-ms J] [--loss P] [--dup P]
                 [--reorder P --reorder-ms X] [--rate-kbit R]
                 [--queue-ms Q] [--outage-ms N] [--seed S]
                 [--ready FILE] [--log FILE]

  --delay-ms D      one-way delay of every frame (RTT = 2 D)
  --jitter-ms J     plus a uniform 0..J ms (frames may overtake each other)
  --loss P          drop a frame with probability P (0..1)
  --dup P           deliver a frame twice with probability P
  --reorder P       hold a frame back --reorder-ms longer with probability
                    P, so that the frames behind it overtake it
  --rate-kbit R     serialise frames at R kbit/s (per direction), queueing
                    them; --queue-ms Q drops a frame that would wait more
                    than Q ms in that queue (tail drop, like tbf's latency)
  --outage-ms N     on SIGUSR1, drop every frame for N ms

Runs until SIGTERM or SIGINT, then writes its summary to --log (default
stderr): "relay: seed=S outages=N", then one line of counts per direction,
"relay: to_guest: frames=... lost=..." and "relay: to_host: ...". Python 3
standard library only; needs CAP_NET_ADMIN for the TAP (root in a network
namespace).
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class Direction:
    """One way of the link: its random generator, queue and counters."""

    def __init__(self, name, opts, seed):
        self.name = name
        self.opts = opts
        self.rng = random.Random(seed)
        self.link_free = 0.0  # when the rate-limited link is free again
        self.seq = 0          # frames in
        self.delivered_seq = -1
        self.c = dict(frames=0, bytes=0, delivered=0, lost=0, outage=0,
                      queue_drop=0, dup=0, held=0, reordered=0)
        self.max_queue_ms = 0.0

    def plan(self, now, size, outage):
        """Delivery times for one frame ([] when dropped)."""
        o = self.opts
        self.c["frames"] += 1
        self.c["bytes"] += size
        # draw every random number every time, so that a frame's fate
        # depends only on its number and the seed
        r_loss, r_dup, r_hold = self.rng.random(), self.rng.random(), self.rng.random()
        jitter = self.rng.uniform(0.0, o.jitter_ms / 1000.0)
        if outage:
            self.c["outage"] += 1
            return []
        if r_loss < o.loss:
            self.c["lost"] += 1
            return []
        start = now
        if o.rate_kbit > 0:
            start = max(now, self.link_free)
            wait = start - now
            if o.queue_ms > 0 and wait * 1000.0 > o.queue_ms:
                self.c["queue_drop"] += 1
                return []
            self.max_queue_ms = max(self.max_queue_ms, wait * 1000.0)
            self.link_free = start + size * 8 / (o.rate_kbit * 1000.0)
            start = self.link_free
        at = start + o.delay_ms / 1000.0 + jitter
        if r_hold < o.reorder:
            self.c["held"] += 1
            at += o.reorder_ms / 1000.0
        times = [at]
        if r_dup < o.dup:
            self.c["dup"] += 1
            times.append(at + 0.0005)
        return times

    def delivered(self, seq):
        self.c["delivered"] += 1
        if seq < self.delivered_seq:
            self.c["reordered"] += 1
        self.delivered_seq = max(self.delivered_seq, seq)

    def summary(self):
        items = " ".join("%s=%d" % kv for kv in self.c.items())
        return "%s: %s max_queue_ms=%.0f" % (self.name, items, self.max_queue_ms)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tap", required=True)
    ap.add_argument("--listen", required=True, type=host_port)
    ap.add_argument("--qemu", required=True, type=host_port)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--dup", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--reorder-ms", type=float, default=0.0)
    ap.add_argument("--rate-kbit", type=float, default=0.0)
    ap.add_argument("--queue-ms", type=float, default=0.0)
    ap.add_argument("--outage-ms", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ready")
    ap.add_argument("--log")
    o = ap.parse_args()

    log = open(o.log, "a", buffering=1) if o.log else sys.stderr
    tap = open_tap(o.tap)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(o.listen)
    sock.setblocking(False)
    to_guest = Direction("to_guest", o, o.seed * 2)
    to_host = Direction("to_host", o, o.seed * 2 + 1)
    queue = []        # (time, tie, direction, seq, frame)
    tie = 0
    state = {"outage_until": 0.0, "stop": False, "outages": 0}
    t0 = time.monotonic()

    def on_usr1(signum, frame):
        now = time.monotonic()
        state["outage_until"] = now + o.outage_ms / 1000.0
        state["outages"] += 1
        log.write("relay: outage %d starts at %.3f s for %.0f ms\n"
                  % (state["outages"], now - t0, o.outage_ms))

    def on_stop(signum, frame):
        state["stop"] = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    if o.ready:
        with open(o.ready + ".tmp", "w") as f:
            f.write("ready\n")
        os.replace(o.ready + ".tmp", o.ready)

    def take(direction, frame):
        nonlocal tie
        now = time.monotonic()
        seq = direction.seq
        direction.seq += 1
        for at in direction.plan(now, len(frame), now < state["outage_until"]):
            tie += 1
            heapq.heappush(queue, (at, tie, direction, seq, frame))

    while not state["stop"]:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, d, seq, frame = heapq.heappop(queue)
            try:
                if d is to_guest:
                    sock.sendto(frame, o.qemu)
                else:
                    os.write(tap, frame)
                d.delivered(seq)
            except (BlockingIOError, ConnectionRefusedError):
                pass  # QEMU not there yet, or the TAP queue full: a loss
        wait = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.5
        try:
            ready, _, _ = select.select([tap, sock], [], [], wait)
        except InterruptedError:
            continue
        if tap in ready:
            while True:
                try:
                    take(to_guest, os.read(tap, 65536))
                except BlockingIOError:
                    break
        if sock in ready:
            while True:
                try:
                    frame, _ = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                except ConnectionRefusedError:
                    continue  # an earlier send found no QEMU yet
                take(to_host, frame)

    log.write("relay: seed=%d outages=%d\nrelay: %s\nrelay: %s\n"
              % (o.seed, state["outages"], to_guest.summary(), to_host.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
