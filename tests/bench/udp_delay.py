#!/usr/bin/env python3
"""A DNS delay proxy for the benchmarks: every reply (UDP or TCP) reaches the client DELAY
seconds after the upstream sent it, so a run's DNS time divided by DELAY counts its round
trips. One thread and a readiness loop for UDP (so that it adds no delay of its own under
hundreds of queries at once), a thread per TCP connection. Loopback only; runs until killed.

    udp_delay.py LISTEN_PORT UPSTREAM_PORT DELAY_SECONDS
"""
import heapq
import selectors
import socket
import sys
import threading
import time

listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


def udp():
    sel = selectors.DefaultSelector()
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", listen))
    front.setblocking(False)
    sel.register(front, selectors.EVENT_READ, None)
    due = []  # (when, seq, reply, client)
    seq = 0
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        for key, _ in sel.select(timeout):
            sock = key.fileobj
            if key.data is None:
                while True:
                    try:
                        data, addr = front.recvfrom(65535)
                    except BlockingIOError:
                        break
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.setblocking(False)
                    up.connect(("127.0.0.1", upstream))
                    up.send(data)
                    sel.register(up, selectors.EVENT_READ, (addr, time.monotonic()))
            else:
                addr, _ = key.data
                try:
                    reply = sock.recv(65535)
                except OSError:
                    reply = None
                sel.unregister(sock)
                sock.close()
                if reply:
                    seq += 1
                    heapq.heappush(due, (time.monotonic() + delay, seq, reply, addr))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, reply, addr = heapq.heappop(due)
            front.sendto(reply, addr)


def tcp():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(64)

    def relay(client):
        with client, socket.create_connection(("127.0.0.1", upstream), timeout=5) as up:
            client.settimeout(5)
            try:
                while True:
                    data = client.recv(65535)
                    if not data:
                        return
                    up.sendall(data)
                    reply = up.recv(65535)
                    time.sleep(delay)
                    client.sendall(reply)
            except OSError:
                return

    while True:
        client, _ = srv.accept()
        threading.Thread(target=relay, args=(client,), daemon=True).start()


threading.Thread(target=tcp, daemon=True).start()
udp()
