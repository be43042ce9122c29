import { defineConfig } from "@playwright/test";

// The server under test: the release binary, started by Playwright on its own port.
const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Two cores: WebRTC tests with several browser pages are CPU-heavy, so run one file at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // The JSON report feeds the one-line total that `make test` prints last.
  reporter: [["list"], ["json", { outputFile: "../target/e2e-results.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    permissions: ["camera", "microphone"],
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--use-fake-device-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--disable-gpu",
        "--disable-quic",
        "--autoplay-policy=no-user-gesture-required",
      ],
    },
  },
  webServer: {
    command: "../target/release/server",
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 30_000,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "../target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_OUTPUT_NAME: "record-meet",
      // Recordings made by the tests stay in the git-ignored target folder.
      RECORD_MEET_RECORDINGS_DIR: "../target/e2e-recordings",
      RECORD_MEET_RECORDINGS_MIN_FREE_BYTES: "0",
      RUST_LOG: process.env.RUST_LOG ?? "warn,server=info",
    },
  },
});
