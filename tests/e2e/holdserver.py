#!/usr/bin/env python3
"""holdserver.py PORT [LIFETIME] - an upstream that accepts and never answers.

nginx proxies /timeout (proxy_read_timeout 1s: 504) and /slow (the client
gives up first: 499) to it.  It reads and discards what it receives, never
writes, and exits after LIFETIME seconds (default 300) so a lost process
cannot outlive the test for long.  Listens on 127.0.0.1 only.
"""

import selectors
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(256)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1.0):
            if key.fileobj is srv:
                try:
                    conn, _ = srv.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
