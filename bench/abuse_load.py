#!/usr/bin/python3
"""Abusive clients against `graphrec serve` while a well-behaved one keeps asking.

Opens IDLE TCP connections that never speak (they hold descriptors), SLOW
clients that send the HTTP/2 preface one byte a second, and meanwhile calls
SimilarAccounts(ACCOUNT, k 10) in a loop from a fresh gRPC channel every
REOPEN seconds (new connections must still be accepted). Samples the
server's RSS from /proc. After SECONDS the abusers close; the good client
goes on for SECONDS/4 more (recovery). Prints one JSON line per phase.

Usage: bench/abuse_load.py --address H:P --account ID --server-pid PID
       [--idle 2000] [--slow 50] [--seconds 30] [--reopen 2]
"""
import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import grpc  # noqa: E402
from python_client import generate_stubs  # noqa: E402


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--account", type=int, required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--reopen", type=float, default=2)
    args = parser.parse_args()
    host, port = args.address.rsplit(":", 1)
    out_dir = tempfile.mkdtemp()
    generate_stubs(out_dir)
    from proto import graphrec_pb2, graphrec_pb2_grpc  # noqa: E402

    stop_abuse = threading.Event()
    opened = {"idle": 0, "idle_refused": 0, "slow": 0}
    sockets = []

    def open_idle():
        for _ in range(args.idle):
            if stop_abuse.is_set():
                return
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((host, int(port)))
                sockets.append(s)
                opened["idle"] += 1
            except OSError:
                opened["idle_refused"] += 1
                s.close()

    def slow_header():
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        s = socket.socket()
        try:
            s.connect((host, int(port)))
            opened["slow"] += 1
            for byte in preface * 100:
                if stop_abuse.is_set():
                    break
                s.send(bytes([byte]))
                time.sleep(1)
        except OSError:
            pass
        finally:
            s.close()

    def good_client(deadline, samples):
        channel, opened_at = None, 0.0
        while time.time() < deadline:
            if channel is None or time.time() - opened_at > args.reopen:
                if channel is not None:
                    channel.close()
                channel = grpc.insecure_channel(args.address)
                stub = graphrec_pb2_grpc.GraphrecStub(channel)
                opened_at = time.time()
            start = time.perf_counter()
            try:
                stub.SimilarAccounts(graphrec_pb2.SimilarAccountsRequest(account_id=args.account, k=10), timeout=1)
                samples.append(time.perf_counter() - start)
            except grpc.RpcError as error:
                samples.append(None)
                samples_errors.append(error.code().name)
            time.sleep(0.01)
        channel.close()

    def summary(phase, samples, rss):
        ok = sorted(s for s in samples if s is not None)
        pick = lambda q: round(ok[min(len(ok) - 1, int(q * len(ok)))] * 1000, 2) if ok else None  # noqa: E731
        return {"phase": phase, "requests": len(samples), "failed": len(samples) - len(ok), "p50_ms": pick(0.5),
                "p99_ms": pick(0.99), "max_rss_mb": round(max(rss), 1), **opened}

    rss = []
    sampling = threading.Event()

    def sample_rss():
        while not sampling.is_set():
            rss.append(rss_mb(args.server_pid))
            time.sleep(0.5)

    samples_errors = []
    threading.Thread(target=sample_rss, daemon=True).start()
    abusers = [threading.Thread(target=open_idle, daemon=True)]
    abusers += [threading.Thread(target=slow_header, daemon=True) for _ in range(args.slow)]
    for t in abusers:
        t.start()
    samples = []
    good_client(time.time() + args.seconds, samples)
    print(json.dumps(summary("under abuse", samples, rss) | {"errors": sorted(set(samples_errors))}), flush=True)
    stop_abuse.set()
    for s in sockets:
        s.close()
    rss.clear()
    samples_errors.clear()
    samples = []
    good_client(time.time() + args.seconds / 4, samples)
    sampling.set()
    print(json.dumps(summary("after", samples, rss) | {"errors": sorted(set(samples_errors))}), flush=True)


if __name__ == "__main__":
    main()
