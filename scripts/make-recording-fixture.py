#!/usr/bin/env python3
"""Records a few seconds of real Chrome MediaRecorder output (live WebM, vp8+opus, 1 s chunks)
from Chromium's fake camera and microphone, and writes each chunk as it arrives.

Why: the finalizer's tests must read what Chrome really writes (unknown-size Segment and
Clusters, chunk boundaries anywhere), not what we believe it writes.

Usage: scripts/make-recording-fixture.py OUT_DIR [SECONDS [WIDTH HEIGHT VIDEO_BPS]]
The committed fixture is the default (6 s, 320x240, 150 kbit/s: under 100 KB); the benchmark
uses 60 s of 1280x720 at 2.5 Mbit/s with FAKE_VIDEO=<file.y4m> (a noisy picture, so the
encoder really spends the bitrate). Needs /usr/bin/chromium; runs on 127.0.0.1 only.
"""
import http.server
import os
import subprocess
import sys
import tempfile
import threading

OUT = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 6.0
WIDTH, HEIGHT, VBPS = (int(a) for a in sys.argv[3:6]) if len(sys.argv) > 5 else (320, 240, 150000)

PAGE = """<!doctype html><meta charset=utf-8><body><script>
(async () => {
  const s = await navigator.mediaDevices.getUserMedia({
    audio: true, video: {width: %d, height: %d, frameRate: %d}});
  const r = new MediaRecorder(s, {mimeType: 'video/webm;codecs=vp8,opus',
    videoBitsPerSecond: %d, audioBitsPerSecond: 32000});
  let seq = 0, pending = Promise.resolve();
  r.ondataavailable = (e) => {
    const n = seq++;
    pending = pending.then(() => fetch('/chunk/' + n, {method: 'PUT', body: e.data}));
  };
  r.onstop = () => pending.then(() => fetch('/done', {method: 'POST'}));
  r.start(1000);
  setTimeout(() => r.stop(), %d);
})().catch((e) => fetch('/fail', {method: 'POST', body: String(e)}));
</script>""" % (WIDTH, HEIGHT, 15 if WIDTH <= 320 else 30, VBPS, int(SECONDS * 1000))

done = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_PUT(self):
        seq = int(self.path.rsplit("/", 1)[1])
        with open(os.path.join(OUT, "chunk-%03d.webm" % seq), "wb") as f:
            f.write(self._body())
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self):
        body = self._body()
        if self.path == "/fail":
            print("page failed:", body.decode(), file=sys.stderr)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()
        done.set()


os.makedirs(OUT, exist_ok=True)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
with tempfile.TemporaryDirectory() as profile:
    chrome = subprocess.Popen([
        "/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        "--autoplay-policy=no-user-gesture-required", "--user-data-dir=" + profile,
    ] + (["--use-file-for-fake-video-capture=" + os.environ["FAKE_VIDEO"]] if os.environ.get("FAKE_VIDEO") else []) + [
        "http://127.0.0.1:%d/" % server.server_address[1],
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = done.wait(SECONDS + 30)
    chrome.terminate()
    chrome.wait()
server.shutdown()
sys.exit(0 if ok else 1)
