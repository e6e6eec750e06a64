#!/usr/bin/env python3
"""uart_relay.py - bridge QEMU's UART0 to a TCP server, and open, close and
reopen that connection when the firmware says so on UART1, for the
mps2-an386 chatwire firmware.

    uart_relay.py --target 127.0.0.1:8443 --port-file F [--log FILE]

QEMU is started with two serial ports, in this order:
    -serial tcp:127.0.0.1:DATA   UART0, the TLS byte stream
    -serial tcp:127.0.0.1:CTL    UART1, the control line
The relay listens on both (free ports, written to --port-file as "DATA CTL"
once listening: QEMU must find the listeners up when it starts) and accepts
QEMU's two connections. Then, on the control line (examples/qemu-mps2/
mps2_uart.c has the firmware's side):

    "C<16 hex>\\n" from the firmware: close the server connection if one is
        open, drop what the firmware sent on UART0 up to and including the
        8-byte marker given in hex, connect to --target, write the marker on
        UART0, and copy bytes both ways; "F\\n" back when the connection
        fails;
    "X\\n": close the server connection;
    "E<n>\\n" to the firmware: the server closed the connection after
        sending n bytes on it.

The firmware speaks TLS over the UART, so the relay sees only ciphertext;
it reads the plaintext hellos, though, and logs per connection the cipher
suites the client offered (in its order), the one the server chose, and
whether a session was offered (TLS 1.3 pre_shared_key, TLS 1.2 session
ticket) and, in TLS 1.3, taken (pre_shared_key in the ServerHello).
The relay ends when QEMU closes UART0.
"""
import argparse
import os
import selectors
import socket
import sys
import time


class Hello:
    """The first handshake message of one direction of a connection."""

    def __init__(self):
        self.buf = bytearray()
        self.done = False
        self.info = None

    def feed(self, data):
        if self.done:
            return
        self.buf += data
        if len(self.buf) < 9:
            return
        if self.buf[0] != 22:  # not a handshake record
            self.done = True
            return
        rec_len = int.from_bytes(self.buf[3:5], "big")
        if len(self.buf) < 5 + rec_len:
            if len(self.buf) > 70000:
                self.done = True
            return
        self.done = True
        try:
            self.info = parse_hello(bytes(self.buf[5:5 + rec_len]))
        except (IndexError, ValueError):
            self.info = None


def parse_hello(msg):
    kind = msg[0]
    body = msg[4:4 + int.from_bytes(msg[1:4], "big")]
    p = 2 + 32  # legacy version, random
    p += 1 + body[p]  # session id
    if kind == 1:  # ClientHello
        n = int.from_bytes(body[p:p + 2], "big")
        suites = [int.from_bytes(body[p + 2 + i:p + 4 + i], "big")
                  for i in range(0, n, 2)]
        p += 2 + n
        p += 1 + body[p]  # compression methods
    elif kind == 2:  # ServerHello
        suites = [int.from_bytes(body[p:p + 2], "big")]
        p += 3
    else:
        return None
    exts = {}
    if p + 2 <= len(body):
        end = p + 2 + int.from_bytes(body[p:p + 2], "big")
        p += 2
        while p + 4 <= end:
            n = int.from_bytes(body[p + 2:p + 4], "big")
            exts[int.from_bytes(body[p:p + 2], "big")] = n
            p += 4 + n
    # pre_shared_key (41): a TLS 1.3 session offered, or taken; a non-empty
    # session_ticket (35) in a ClientHello: a TLS 1.2 ticket offered
    return {"suites": suites, "psk": 41 in exts,
            "ticket": kind == 1 and exts.get(35, 0) > 0}


class Relay:
    def __init__(self, target, log):
        self.target = target
        self.log = log
        self.sel = selectors.DefaultSelector()
        self.server = None
        self.marker = None       # set by "C": what to find on UART0 first
        self.pending = bytearray()  # guest bytes not yet forwarded
        self.ctl_buf = bytearray()
        self.conns = []          # one dict per connection
        self.t0 = time.monotonic()

    def say(self, text):
        self.ctl.sendall(text.encode())

    def close_server(self):
        if self.server is not None:
            self.sel.unregister(self.server)
            self.server.close()
            self.server = None

    def forward_to_server(self, data):
        conn = self.conns[-1]
        conn["up"] += len(data)
        conn["client_hello"].feed(data)
        self.server.sendall(data)

    def guest_data(self, data):
        self.pending += data
        if self.marker is not None:
            at = self.pending.find(self.marker)
            if at < 0:
                # keep what could still be the start of the marker
                del self.pending[:max(0, len(self.pending) - len(self.marker) + 1)]
                return
            del self.pending[:at + len(self.marker)]
            self.marker = None
        if self.server is not None and self.conns and not self.conns[-1]["closed"]:
            data, self.pending = bytes(self.pending), bytearray()
            if data:
                self.forward_to_server(data)
        elif len(self.pending) > 65536:
            del self.pending[:-16]  # nobody to send it to: the tail is enough

    def control(self, line):
        if line.startswith("C") and len(line) == 17:
            self.close_server()
            self.marker = bytes.fromhex(line[1:])
            host, port = self.target
            try:
                self.server = socket.create_connection((host, port), timeout=10)
            except OSError:
                self.server = None
                self.say("F\n")
                return
            self.server.settimeout(None)
            self.server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sel.register(self.server, selectors.EVENT_READ, "server")
            self.conns.append({"up": 0, "down": 0, "closed": False,
                               "by": "-", "client_hello": Hello(),
                               "server_hello": Hello()})
            self.guest.sendall(self.marker)
            self.guest_data(b"")  # the marker may be here already
        elif line == "X":
            if self.conns and not self.conns[-1]["closed"]:
                self.conns[-1]["closed"] = True
                self.conns[-1]["by"] = "firmware"
            # what the firmware sends from now until its next marker
            # (its close_notify) stays in pending and is dropped then
            self.close_server()

    def server_data(self):
        try:
            data = self.server.recv(65536)
        except OSError:
            data = b""
        conn = self.conns[-1]
        if not data:
            conn["closed"] = True
            conn["by"] = "server"
            self.close_server()
            self.say("E%d\n" % conn["down"])
            return
        conn["down"] += len(data)
        conn["server_hello"].feed(data)
        self.guest.sendall(data)

    def run(self, data_lst, ctl_lst):
        self.guest, _ = data_lst.accept()
        self.ctl, _ = ctl_lst.accept()
        data_lst.close()
        ctl_lst.close()
        for s in (self.guest, self.ctl):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sel.register(self.guest, selectors.EVENT_READ, "guest")
        self.sel.register(self.ctl, selectors.EVENT_READ, "ctl")
        while True:
            for key, _ in self.sel.select():
                if key.data == "server":
                    if self.server is not None:
                        self.server_data()
                    continue
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    return  # QEMU closed its side: it exited
                if key.data == "guest":
                    self.guest_data(data)
                else:
                    self.ctl_buf += data
                    while b"\n" in self.ctl_buf:
                        line, _, rest = bytes(self.ctl_buf).partition(b"\n")
                        self.ctl_buf = bytearray(rest)
                        self.control(line.decode("ascii", "replace"))

    def summary(self):
        lines = []
        for i, c in enumerate(self.conns, 1):
            ch, sh = c["client_hello"].info, c["server_hello"].info
            offered = ",".join("%04x" % s for s in ch["suites"]) if ch else "-"
            chose = ",".join("%04x" % s for s in sh["suites"]) if sh else "-"
            lines.append(
                "uart_relay: connection %d: guest->server %d bytes, "
                "server->guest %d bytes, offered %s psk=%s ticket=%s, "
                "chose %s psk=%s, closed by %s\n"
                % (i, c["up"], c["down"], offered,
                   "yes" if ch and ch["psk"] else "no",
                   "yes" if ch and ch["ticket"] else "no", chose,
                   "yes" if sh and sh["psk"] else "no", c["by"]))
        lines.append("uart_relay: %d connections, %.2f s\n"
                     % (len(self.conns), time.monotonic() - self.t0))
        return "".join(lines)


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True, help="HOST:PORT")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", help="append the summary here")
    opts = ap.parse_args()
    host, port = opts.target.rsplit(":", 1)

    data_lst, ctl_lst = listener(), listener()
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (data_lst.getsockname()[1], ctl_lst.getsockname()[1]))
    os.replace(tmp, opts.port_file)

    relay = Relay((host, int(port)), opts.log)
    try:
        relay.run(data_lst, ctl_lst)
    finally:
        relay.close_server()
        summary = relay.summary()
        sys.stderr.write(summary)
        if opts.log:
            with open(opts.log, "a") as f:
                f.write(summary)


if __name__ == "__main__":
    main()
