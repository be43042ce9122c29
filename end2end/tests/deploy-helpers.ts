import { spawn, spawnSync, ChildProcess } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Page } from "@playwright/test";

const ROOT = path.resolve(__dirname, "..", "..");

/** The release tarball `make dist` wrote, or null when there is none. */
export function bundlePath(): string | null {
  const dist = path.join(ROOT, "dist");
  if (!fs.existsSync(dist)) return null;
  const name = fs.readdirSync(dist).find((f) => /^record-meet-.*\.tar\.gz$/.test(f));
  return name ? path.join(dist, name) : null;
}

/** Unpacks the tarball into a fresh empty temporary directory; returns the executable. */
export function unpackBundle(tarball: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rm-bundle-"));
  const r = spawnSync("tar", ["-xzf", tarball, "-C", dir]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  const [top] = fs.readdirSync(dir);
  return path.join(dir, top, "record-meet");
}

/** An empty directory to run from: nothing there the server could lean on. */
export function emptyDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The bundle's executable as its own process, started with `env -i` (no environment at all)
 * plus `env`, from an empty working directory. `listenedAt` is when it logged that it listens
 * (the log line's own timestamp, same clock as the browsers').
 */
export class BundleProcess {
  child: ChildProcess | null = null;
  listenedAt = 0;
  exitMs = 0;
  readonly cwd = emptyDir("rm-cwd-");
  constructor(
    readonly exe: string,
    readonly port: number,
    private readonly env: Record<string, string> = {},
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const vars = Object.entries({ LEPTOS_SITE_ADDR: `127.0.0.1:${this.port}`, ...this.env }).map(
      ([k, v]) => `${k}=${v}`,
    );
    const child = spawn("env", ["-i", ...vars, this.exe], {
      cwd: this.cwd,
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.child = child;
    this.listenedAt = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the bundle did not start")), 15_000);
      child.stdout!.on("data", (chunk: Buffer) => {
        process.stdout.write(chunk);
        const line = chunk
          .toString()
          .split("\n")
          .find((l) => l.includes("listening on"));
        if (!this.listenedAt && line) {
          // The server's own timestamp of the line: reading its stdout here can lag behind it.
          const logged = Date.parse(line.replace(/\x1b\[[0-9;]*m/g, "").trim().split(" ")[0]);
          this.listenedAt = Number.isNaN(logged) ? Date.now() : logged;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`the bundle exited with ${code}`)));
    });
  }

  /** SIGTERM, and waits for the exit (the drain); records how long it took. */
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const started = Date.now();
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    this.exitMs = Date.now() - started;
  }
}

/**
 * Records every signaling frame and close a page sees, with the time, by wrapping WebSocket
 * (wasm-bindgen looks the constructor up when the socket is made, like RTCPeerConnection).
 */
export const RECORD_SIGNALING = `
  (() => {
    const Original = window.WebSocket;
    window.__signals = [];
    window.WebSocket = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (e) => {
          try {
            const m = JSON.parse(e.data);
            window.__signals.push({ t: Date.now(), type: m.type, session: m.data && m.data.session });
          } catch {}
        });
        this.addEventListener("close", (e) => window.__signals.push({ t: Date.now(), type: "close", code: e.code }));
      }
    };
  })();
`;

/** The frames and closes a page recorded. */
export async function signals(
  page: Page,
): Promise<{ t: number; type: string; code?: number; session?: string }[]> {
  return page.evaluate(() => (window as any).__signals);
}

/** Samples the decoded video frames of every peer connection every 100 ms, in the page. */
export async function startSampling(page: Page) {
  await page.evaluate(() => {
    const w = window as any;
    w.__samples = [];
    w.__sampler = setInterval(async () => {
      let frames = 0;
      for (const pc of w.__pcs as RTCPeerConnection[]) {
        if (pc.connectionState === "closed") continue;
        const stats = await pc.getStats();
        stats.forEach((s: any) => {
          if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
        });
      }
      w.__samples.push({ t: Date.now(), frames, pcs: w.__pcs.length });
    }, 100);
  });
}

/** Stops sampling and returns the samples. */
export async function stopSampling(page: Page): Promise<{ t: number; frames: number; pcs: number }[]> {
  return page.evaluate(() => {
    const w = window as any;
    clearInterval(w.__sampler);
    return w.__samples;
  });
}

/**
 * The longest time, in ms, between two samples that each saw the decoded-frame count rise: an
 * upper bound on the longest time without a new frame (at 30 fps every 100 ms sample sees new
 * frames, so a flowing stream gives about the sampling interval). A sampler that was itself held
 * up counts against the stream, never for it; the wait after the last rise counts too.
 * `endedAt` is when the longest gap ended (ms since the epoch).
 */
export function longestStall(samples: { t: number; frames: number }[]): { ms: number; endedAt: number } {
  let longest = { ms: 0, endedAt: 0 };
  let lastRise = samples[0]?.t ?? 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].frames > samples[i - 1].frames) {
      if (samples[i].t - lastRise > longest.ms) longest = { ms: samples[i].t - lastRise, endedAt: samples[i].t };
      lastRise = samples[i].t;
    }
  }
  const end = samples[samples.length - 1]?.t ?? lastRise;
  return end - lastRise > longest.ms ? { ms: end - lastRise, endedAt: end } : longest;
}

/** An HTTPS GET (any certificate) to 127.0.0.1:`port` for `host`: the status and body. */
export function httpsGet(port: number, host: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path: urlPath, servername: host, headers: { host: `${host}:${port}` }, rejectUnauthorized: false },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * A WebSocket upgrade through the proxy with the given Origin: 101 when the server accepts it,
 * else the refusal's status.
 */
export function wssUpgradeStatus(port: number, host: string, urlPath: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1",
      port,
      path: urlPath,
      servername: host,
      rejectUnauthorized: false,
      headers: {
        host: `${host}:${port}`,
        origin,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Caddy as the TLS reverse proxy (`tls internal`), its state in a temporary directory. */
export class Caddy {
  private child: ChildProcess | null = null;
  readonly dir = emptyDir("rm-caddy-");
  constructor(readonly host: string, readonly httpsPort: number, readonly upstream: number) {}

  async start() {
    const caddyfile = path.join(this.dir, "Caddyfile");
    fs.writeFileSync(
      caddyfile,
      `{
  admin off
  auto_https disable_redirects
  skip_install_trust
  http_port ${this.httpsPort + 1}
  https_port ${this.httpsPort}
  storage file_system ${this.dir}/storage
}
https://${this.host}:${this.httpsPort} {
  tls internal
  reverse_proxy 127.0.0.1:${this.upstream}
}
`,
    );
    this.child = spawn("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], {
      env: { ...process.env, HOME: this.dir, XDG_DATA_HOME: this.dir, XDG_CONFIG_HOME: this.dir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    this.child.stderr!.on("data", (c) => (log += c));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const r = await httpsGet(this.httpsPort, this.host, "/health");
        if (r.status === 200) return;
      } catch {
        // not up yet
      }
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`caddy did not start:\n${log}`);
  }

  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

/**
 * nginx with the shipped site (`deploy/nginx.conf`): only its listen addresses and certificate
 * paths are replaced (a self-signed certificate for `host`), the proxy settings are tested as
 * they ship.
 */
export class Nginx {
  private child: ChildProcess | null = null;
  readonly dir = emptyDir("rm-nginx-");
  constructor(readonly host: string, readonly httpsPort: number, readonly upstream: number) {}

  async start() {
    const d = this.dir;
    const cert = spawnSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${this.host}`,
      "-keyout", `${d}/key.pem`, "-out", `${d}/cert.pem`,
    ]);
    if (cert.status !== 0) throw new Error(`openssl: ${cert.stderr}`);
    const site = fs
      .readFileSync(path.join(ROOT, "deploy/nginx.conf"), "utf8")
      .replaceAll("/etc/letsencrypt/live/meet.example.org/fullchain.pem", `${d}/cert.pem`)
      .replaceAll("/etc/letsencrypt/live/meet.example.org/privkey.pem", `${d}/key.pem`)
      .replaceAll("meet.example.org", this.host)
      .replace(/listen \[::\]:\d+[^;]*;/g, "")
      .replace("listen 80;", `listen 127.0.0.1:${this.httpsPort + 1};`)
      .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${this.httpsPort} ssl http2;`)
      .replaceAll("127.0.0.1:3000", `127.0.0.1:${this.upstream}`);
    fs.writeFileSync(`${d}/site.conf`, site);
    fs.mkdirSync(`${d}/tmp`);
    fs.writeFileSync(
      `${d}/nginx.conf`,
      `daemon off;\npid ${d}/nginx.pid;\nerror_log ${d}/error.log;\nevents {}\nhttp {\n` +
        `  access_log off;\n  client_body_temp_path ${d}/tmp;\n  proxy_temp_path ${d}/tmp;\n` +
        `  include ${d}/site.conf;\n}\n`,
    );
    this.child = spawn("/usr/sbin/nginx", ["-c", `${d}/nginx.conf`, "-p", d], { stdio: "ignore" });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        if ((await httpsGet(this.httpsPort, this.host, "/health")).status === 200) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx did not start: ${fs.readFileSync(`${d}/error.log`, "utf8")}`);
  }

  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGQUIT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

/**
 * A signaling client that joins and then never reads again, like one on a network that just
 * died: it never answers the server's close, so a drain waits for it (about half a second)
 * before the process exits. Destroy it when done.
 */
export function unresponsiveSocket(port: number, urlPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(
        `GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    socket.once("data", (head: Buffer) => {
      if (!head.toString().startsWith("HTTP/1.1 101")) return reject(new Error(`not upgraded: ${head}`));
      socket.pause();
      resolve(socket);
    });
    socket.once("error", reject);
  });
}
