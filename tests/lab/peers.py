#!/usr/bin/env python3
# tests/lab/peers.py — the lab's non-nginx TCP peers on 127.0.0.1, all in one process:
#   stall:PORT    accepts and never answers (a handshake that hangs)
#   garbage:PORT  reads the ClientHello, answers bytes that are not TLS, then closes
#   close:PORT    reads the ClientHello, then closes cleanly (FIN)
#   reset:PORT    reads the ClientHello, then resets the connection (RST)
# Usage: peers.py READYFILE KIND:PORT...  (READYFILE is written once every port listens).
# Started and stopped by lab.sh (lab_start / lab_cleanup); it owns nothing else.
import os
import selectors
import signal
import socket
import struct
import sys
import time

GARBAGE = b"\x00\xffHELLO this is not TLS\r\n\x1b[31mgarbage\x1b[0m\r\n" + bytes(range(0, 32))


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: peers.py READYFILE KIND:PORT...\n")
        return 2
    ready = sys.argv[1]
    sel = selectors.DefaultSelector()
    for spec in sys.argv[2:]:
        kind, port = spec.split(":")
        if kind not in ("stall", "garbage", "close", "reset"):
            sys.stderr.write("peers.py: unknown kind %s\n" % kind)
            return 2
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(port)))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", kind))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)

    held = {}  # stalled sockets -> accept time
    while True:
        for key, _ in sel.select(timeout=1.0):
            role, kind = key.data
            if role == "listen":
                try:
                    c, _ = key.fileobj.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ("conn", kind))
                if kind == "stall":
                    held[c] = time.monotonic()
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if kind == "stall" and data:
                continue  # swallow whatever comes, never answer
            if kind == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if data and kind == "garbage":
                try:
                    c.setblocking(True)
                    c.sendall(GARBAGE)
                except OSError:
                    pass
            sel.unregister(c)
            held.pop(c, None)
            c.close()
        now = time.monotonic()
        for c in [c for c, t in held.items() if now - t > 120]:
            sel.unregister(c)
            del held[c]
            c.close()


if __name__ == "__main__":
    sys.exit(main())
