#!/usr/bin/env python3
"""uart_relay.py - bridge QEMU's UART0 (-serial tcp:127.0.0.1:PORT) to a TCP
server, byte for byte, for the mps2-an386 chatwire firmware.

    uart_relay.py --target 127.0.0.1:8443 --port-file F [--log FILE]

Listens on 127.0.0.1 (a free port, written to --port-file once listening:
QEMU must find the listener up when it starts), accepts QEMU's one
connection, then connects to --target and copies bytes both ways until either
side closes. The firmware speaks TLS over the UART, so the target is the TLS
port of the test server: the relay sees only ciphertext.
"""
import argparse
import os
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True, help="HOST:PORT")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", help="append a one-line summary here")
    opts = ap.parse_args()
    host, port = opts.target.rsplit(":", 1)

    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lst.getsockname()[1])
    os.replace(tmp, opts.port_file)

    guest, _ = lst.accept()
    lst.close()
    t0 = time.monotonic()
    server = socket.create_connection((host, int(port)))
    for s in (guest, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sel = selectors.DefaultSelector()
    sel.register(guest, selectors.EVENT_READ, server)
    sel.register(server, selectors.EVENT_READ, guest)
    counts = {guest: 0, server: 0}
    done = False
    while not done:
        for key, _ in sel.select():
            src, dst = key.fileobj, key.data
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                done = True
                break
            counts[src] += len(data)
            try:
                dst.sendall(data)
            except OSError:
                done = True
                break
    summary = ("uart_relay: guest->server %d bytes, server->guest %d bytes, "
               "%.2f s\n" % (counts[guest], counts[server],
                             time.monotonic() - t0))
    sys.stderr.write(summary)
    if opts.log:
        with open(opts.log, "a") as f:
            f.write(summary)
    guest.close()
    server.close()


if __name__ == "__main__":
    main()
