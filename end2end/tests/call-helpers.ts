import { Browser, BrowserContext, Page, expect } from "@playwright/test";
import { spawn, ChildProcess } from "node:child_process";
import path from "node:path";

/**
 * Records every RTCPeerConnection the page creates (wasm-bindgen's glue looks the constructor up
 * at call time, so the wasm-created ones are seen too), so tests can read real media stats.
 */
const RECORD_PEER_CONNECTIONS = `
  (() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Original {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
  })();
`;

const openContexts: BrowserContext[] = [];

/** Closes every context `person` opened: pages left running would eat the two cores. */
export async function closeEveryone() {
  while (openContexts.length > 0) await openContexts.pop()!.close().catch(() => {});
}

/** One person: their own browser context (separate storage, like a separate browser). */
export async function person(
  browser: Browser,
  options: { permissions?: string[] } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    permissions: options.permissions ?? ["camera", "microphone"],
  });
  openContexts.push(context);
  await context.addInitScript(RECORD_PEER_CONNECTIONS);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/WebSocket connection to .* failed/.test(m.text())) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { context, page, errors };
}

/** Opens the room, waits for hydration and the camera preview, sets a name and joins. */
export async function join(page: Page, baseURL: string, room: string, name: string) {
  await page.goto(`${baseURL}/room/${room}`);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached" });
  await page.getByTestId("name-input").fill(name);
  await expect(page.getByTestId("join")).toBeEnabled();
  await page.getByTestId("join").click();
  await expect(page.getByTestId("stage")).toHaveAttribute("data-phase", "in-call");
}

/** Inbound media totals over the page's open peer connections. */
export async function inbound(page: Page): Promise<{
  videoFrames: number;
  audioPackets: number;
  decodingPeers: number;
}> {
  return page.evaluate(async () => {
    let videoFrames = 0;
    let audioPackets = 0;
    let decodingPeers = 0;
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      let frames = 0;
      stats.forEach((s: any) => {
        if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
        if (s.type === "inbound-rtp" && s.kind === "audio") audioPackets += s.packetsReceived ?? 0;
      });
      videoFrames += frames;
      if (frames > 0) decodingPeers += 1;
    }
    return { videoFrames, audioPackets, decodingPeers };
  });
}

/** Waits until `peers` connections decode video, then checks the frame count keeps rising. */
export async function expectVideoFrom(page: Page, peers: number, timeout = 20_000) {
  await expect
    .poll(async () => (await inbound(page)).decodingPeers, { timeout, message: "peers decoding video" })
    .toBeGreaterThanOrEqual(peers);
  const before = (await inbound(page)).videoFrames;
  await expect
    .poll(async () => (await inbound(page)).videoFrames, { timeout, message: "frames keep coming" })
    .toBeGreaterThan(before + 10);
}

/** Every remote tile's <video> shows real pixels. */
export async function expectRemoteVideosPlaying(page: Page, count: number) {
  await expect(page.getByTestId("remote-tile")).toHaveCount(count);
  await expect
    .poll(() =>
      page.$$eval("[data-testid=remote-tile] video", (vs) =>
        vs.filter((v) => (v as HTMLVideoElement).videoWidth > 0).length,
      ),
    )
    .toBe(count);
}

const ROOT = path.resolve(__dirname, "..", "..");

/** A server process of our own, for tests that restart it or change its settings. */
export class ServerProcess {
  private child: ChildProcess | null = null;
  /** Everything the server printed (stdout and stderr), for tests that inspect its log. */
  readonly output: string[] = [];
  constructor(readonly port: number, private readonly env: Record<string, string> = {}) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.child = spawn(path.join(ROOT, "target/release/server"), [], {
      cwd: ROOT,
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`,
        LEPTOS_SITE_ROOT: "target/site",
        LEPTOS_SITE_PKG_DIR: "pkg",
        LEPTOS_OUTPUT_NAME: "record-meet",
        RUST_LOG: "warn",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Kept for the test and passed on, so the log still shows in the runner's output.
    this.child.stdout!.on("data", (d) => {
      this.output.push(String(d));
      process.stdout.write(d);
    });
    this.child.stderr!.on("data", (d) => {
      this.output.push(String(d));
      process.stderr.write(d);
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server on port ${this.port} did not start`);
  }

  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

/** A room name nobody else uses. */
export function freshRoom(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
