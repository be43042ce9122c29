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
  await context.addInitScript(RECORD_CAPTURED_TRACKS);
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

  /** Kills the server without warning (SIGKILL), as a crash would. */
  async kill() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
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

/**
 * Launch options for specs that share a screen: the usual fake devices plus the fake picker, so
 * `getDisplayMedia` answers at once with a fake 1280×720 screen. Kept out of the default options
 * because the fake picker also grants camera access that some tests deny on purpose.
 */
export const SCREEN_LAUNCH = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-gpu",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
  ],
};

/** Per-receiver decoded video, split by tile: screen-tile tracks vs everything else (cameras). */
export async function decodedBySource(page: Page): Promise<{
  cameraFrames: number;
  screenFrames: number;
  screenWidth: number;
  screens: number;
}> {
  return page.evaluate(async () => {
    const screenTracks = new Set<string>();
    document.querySelectorAll("[data-testid=screen-tile] video").forEach((v) => {
      const s = (v as HTMLVideoElement).srcObject as MediaStream | null;
      s?.getVideoTracks().forEach((t) => screenTracks.add(t.id));
    });
    let cameraFrames = 0;
    let screenFrames = 0;
    let screenWidth = 0;
    let screens = 0;
    for (const pc of (window as any).__pcs as RTCPeerConnection[]) {
      if (pc.connectionState === "closed") continue;
      for (const r of pc.getReceivers()) {
        if (r.track.kind !== "video") continue;
        const stats = await r.getStats();
        stats.forEach((s: any) => {
          if (s.type !== "inbound-rtp") return;
          if (screenTracks.has(r.track.id) && r.track.readyState === "live") {
            screenFrames += s.framesDecoded ?? 0;
            screenWidth = Math.max(screenWidth, s.frameWidth ?? 0);
            if ((s.framesDecoded ?? 0) > 0) screens += 1;
          } else if (!screenTracks.has(r.track.id)) {
            cameraFrames += s.framesDecoded ?? 0;
          }
        });
      }
    }
    return { cameraFrames, screenFrames, screenWidth, screens };
  });
}

/** Waits until `screens` screen shares decode on `page`, then checks their frames keep coming. */
export async function expectScreens(page: Page, screens: number, timeout = 20_000) {
  await expect
    .poll(async () => (await decodedBySource(page)).screens, { timeout, message: "screens decoding" })
    .toBeGreaterThanOrEqual(screens);
  const before = (await decodedBySource(page)).screenFrames;
  await expect
    .poll(async () => (await decodedBySource(page)).screenFrames, { timeout, message: "screen frames keep coming" })
    .toBeGreaterThan(before + 5);
}

/** Checks camera frames keep arriving on `page` (the cameras are unaffected). */
export async function expectCamerasFlowing(page: Page, timeout = 20_000) {
  const before = (await decodedBySource(page)).cameraFrames;
  await expect
    .poll(async () => (await decodedBySource(page)).cameraFrames, { timeout, message: "camera frames keep coming" })
    .toBeGreaterThan(before + 10);
}

/**
 * Records every track the page captures (camera, microphone, screen), so a test can check that
 * leaving stopped them all. `window.__captured` survives in-app navigation, not reloads.
 */
export const RECORD_CAPTURED_TRACKS = `
  (() => {
    window.__captured = [];
    const md = navigator.mediaDevices;
    if (!md) return;
    for (const name of ["getUserMedia", "getDisplayMedia"]) {
      const original = md[name] && md[name].bind(md);
      if (!original) continue;
      md[name] = async (...args) => {
        const stream = await original(...args);
        stream.getTracks().forEach((t) => window.__captured.push(t));
        return stream;
      };
    }
  })();
`;

/** Every captured track's `readyState` and kind/label. */
export async function capturedTracks(page: Page): Promise<{ state: string; kind: string; label: string }[]> {
  return page.evaluate(() =>
    ((window as any).__captured as MediaStreamTrack[]).map((t) => ({ state: t.readyState, kind: t.kind, label: t.label })),
  );
}

/**
 * A TCP proxy in front of the server, so a test can drop every connection at once the way a
 * network would (no WebSocket close frame): the server keeps the session for its resume grace.
 */
export class Proxy {
  private server: import("node:net").Server | null = null;
  private sockets = new Set<import("node:net").Socket>();
  constructor(readonly port: number, private readonly target: number) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const net = await import("node:net");
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(this.port, "127.0.0.1", r));
  }

  /** Drops every open connection without a goodbye. */
  cut() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop() {
    this.cut();
    await new Promise((r) => (this.server ? this.server.close(r) : r(null)));
  }
}
