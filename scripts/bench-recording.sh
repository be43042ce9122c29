#!/usr/bin/env bash
# Recording benchmarks: records 60 s of 1280x720 at 2.5 Mbit/s in headless Chromium (a noisy
# picture, so the encoder spends the bitrate), then measures the release server receiving and
# finalizing it. Results go into BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
make build
mkdir -p target/bench
if [ ! -e target/bench/rec-bench/chunk-000.webm ]; then
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x360:rate=30,noise=alls=30:allf=t" -t 4 \
    -pix_fmt yuv420p target/bench/noise.y4m
  FAKE_VIDEO=target/bench/noise.y4m scripts/make-recording-fixture.py target/bench/rec-bench 60 1280 720 2500000
fi
userns=(); [ "$(id -u)" -eq 0 ] || userns=(-r)
exec unshare "${userns[@]}" -n bash -c 'ip link set lo up && scripts/bench-recording.py target/bench/rec-bench'
