#!/usr/bin/env python3
"""Measures the recording server: CPU per recorded minute of chunk receiving, and finalize time
per recorded minute, against the release server binary on 127.0.0.1.

Input: a recording made by scripts/make-recording-fixture.py (default target/bench/rec-bench: 60 s of
1280x720 at 2.5 Mbit/s, see scripts/bench-recording.sh). Results go into BENCHMARKS.md by hand.
"""
import base64
import glob
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CHUNKS = sys.argv[1] if len(sys.argv) > 1 else "target/bench/rec-bench"
BINARY = os.environ.get("SERVER", "target/release/server")
RUNS = 3
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of a process, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def join(port, room, peer):
    """A bare WebSocket join: the recorder must be in the room to start a recording."""
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/{room}/{peer} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = s.recv(4096)
    assert b" 101 " in head.split(b"\r\n", 1)[0], head
    return s


def request(conn, method, path, body=None, token=None):
    headers = {"content-type": "application/json"} if method == "POST" and body else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def main():
    chunks = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(CHUNKS, "chunk-*.webm")))]
    total = sum(map(len, chunks))
    results = []
    for run in range(RUNS):
        store = tempfile.mkdtemp(prefix="bench-recordings-")
        port = free_port()
        env = dict(os.environ, LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", RECORD_MEET_RECORDINGS_DIR=store,
                   RECORD_MEET_RECORDINGS_MIN_FREE_BYTES="0", RUST_LOG="warn,server=info")
        server = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    break
                except OSError:
                    time.sleep(0.05)
            ws = join(port, "bench", "rec")
            conn = http.client.HTTPConnection("127.0.0.1", port)
            status, body = request(conn, "POST", "/api/rooms/bench/recordings", json.dumps({"peer": "rec"}))
            assert status == 201, (status, body)
            started = json.loads(body)
            rid, token = started["id"], started["upload_token"]
            before = cpu_seconds(server.pid)
            t0 = time.monotonic()
            for seq, chunk in enumerate(chunks):
                status, body = request(conn, "PUT", f"/api/rooms/bench/recordings/{rid}/chunks/{seq}", chunk, token)
                assert status == 201, (status, body)
            receive_wall = time.monotonic() - t0
            receive_cpu = cpu_seconds(server.pid) - before
            before = cpu_seconds(server.pid)
            t0 = time.monotonic()
            status, body = request(conn, "POST", f"/api/rooms/bench/recordings/{rid}/stop", None, token)
            stop_wall = time.monotonic() - t0
            stop_cpu = cpu_seconds(server.pid) - before
            assert status == 200, (status, body)
            info = json.loads(body)
            minutes = info["duration_ms"] / 60000
            results.append((receive_cpu / minutes, receive_wall / minutes, stop_cpu / minutes, stop_wall / minutes))
            ws.close()
        finally:
            server.terminate()
            _, err = server.communicate(timeout=10)
            shutil.rmtree(store, ignore_errors=True)
        ms = [m for m in re.findall(r"ms=(\d+)", err)]
        print(f"run {run}: {len(chunks)} chunks, {total / 1e6:.1f} MB, {info['duration_ms'] / 1000:.1f} s; "
              f"receive CPU {results[-1][0] * 1000:.0f} ms/min (wall {results[-1][1] * 1000:.0f}); "
              f"stop+finalize CPU {results[-1][2] * 1000:.0f} ms/min (wall {results[-1][3] * 1000:.0f}); "
              f"finalize log ms={ms}")
    best = [min(r[i] for r in results) * 1000 for i in range(4)]
    print(f"best of {RUNS}: receive {best[0]:.0f} ms CPU per recorded minute ({best[1]:.0f} ms wall); "
          f"stop incl. finalize {best[2]:.0f} ms CPU per recorded minute ({best[3]:.0f} ms wall)")


main()
