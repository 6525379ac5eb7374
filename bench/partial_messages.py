#!/usr/bin/python3
"""Clients that start large gRPC messages and never finish them.

Each of N connections speaks raw HTTP/2: the preface, a SimilarAccounts
request whose 5-byte gRPC prefix announces MESSAGE bytes, then DATA frames
as fast as the server's flow-control windows allow, until BYTES of the
message are sent or the windows stay shut for 5 s; then it holds the
stream open for HOLD seconds. Prints how much each connection got to send
and the server's RSS before and at the end (a well-behaved client can run
beside it: bench/abuse_load.py --idle 0 --slow 0).

Usage: bench/partial_messages.py --address H:P --server-pid PID
       [--connections 40] [--message 16000000] [--bytes 15000000] [--hold 30]
"""
import argparse
import json
import socket
import struct
import threading
import time

DATA, HEADERS, SETTINGS, PING, WINDOW_UPDATE = 0, 1, 4, 6, 8


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):  # HPACK literal without indexing, new name, no Huffman
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


class PartialClient(threading.Thread):
    def __init__(self, host, port, message, target):
        super().__init__(daemon=True)
        self.sock = socket.create_connection((host, port))
        # The preface goes first: the server's SETTINGS arrive at once and the
        # reader acknowledges them. Every write holds send_lock (frames from
        # two threads must not interleave).
        self.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
        self.send_lock = threading.Lock()
        self.message, self.target = message, target
        self.window = {0: 65535, 1: 65535}
        self.initial = 65535
        self.lock = threading.Condition()
        self.sent, self.closed = 0, False
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 9:
                    length = int.from_bytes(buffer[:3], "big")
                    if len(buffer) < 9 + length:
                        break
                    kind, flags, stream = buffer[3], buffer[4], struct.unpack(">I", buffer[5:9])[0] & 0x7FFFFFFF
                    payload, buffer = buffer[9:9 + length], buffer[9 + length:]
                    with self.lock:
                        if kind == SETTINGS and not flags & 1:
                            for i in range(0, len(payload), 6):
                                key, value = struct.unpack(">HI", payload[i:i + 6])
                                if key == 4:  # INITIAL_WINDOW_SIZE
                                    self.window[1] += value - self.initial
                                    self.initial = value
                            self.send(frame(SETTINGS, 1, 0))
                        elif kind == PING and not flags & 1:
                            self.send(frame(PING, 1, 0, payload))
                        elif kind == WINDOW_UPDATE:
                            self.window[stream] = self.window.get(stream, 0) + (struct.unpack(">I", payload)[0] & 0x7FFFFFFF)
                        self.lock.notify_all()
        except OSError:
            pass
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def send(self, data):
        with self.send_lock:
            self.sock.sendall(data)

    def run(self):
        headers = b"".join(literal(n, v) for n, v in [
            (b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/graphrec.v1.Graphrec/SimilarAccounts"),
            (b":authority", b"localhost"), (b"content-type", b"application/grpc"), (b"te", b"trailers")])
        try:
            self.send(frame(HEADERS, 4, 1, headers))
        except OSError:
            return
        pending = b"\x00" + struct.pack(">I", self.message)
        while self.sent < self.target:
            with self.lock:
                if not self.lock.wait_for(lambda: self.closed or min(self.window[0], self.window[1]) > 0, timeout=5):
                    break
                if self.closed:
                    break
                size = min(16384, self.window[0], self.window[1], self.target - self.sent)
                self.window[0] -= size
                self.window[1] -= size
            chunk = (pending + b"\x00" * size)[:size]
            pending = pending[size:] if len(pending) > size else b""
            try:
                self.send(frame(DATA, 0, 1, chunk))
            except OSError:
                break
            self.sent += size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--message", type=int, default=16_000_000)
    parser.add_argument("--bytes", type=int, default=15_000_000)
    parser.add_argument("--hold", type=float, default=30)
    args = parser.parse_args()
    host, port = args.address.rsplit(":", 1)
    before = rss_mb(args.server_pid)
    clients = [PartialClient(host, int(port), args.message, args.bytes) for _ in range(args.connections)]
    for c in clients:
        c.start()
    peak, deadline = before, time.time() + args.hold
    while time.time() < deadline:
        peak = max(peak, rss_mb(args.server_pid))
        time.sleep(0.5)
    sent = sorted(c.sent for c in clients)
    print(json.dumps({"connections": args.connections, "announced_bytes": args.message,
                      "sent_bytes_min": sent[0], "sent_bytes_median": sent[len(sent) // 2], "sent_bytes_max": sent[-1],
                      "closed_by_server": sum(c.closed for c in clients),
                      "server_rss_before_mb": round(before, 1), "server_rss_peak_mb": round(peak, 1)}))


if __name__ == "__main__":
    main()
