import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BIN } from '../cli/cli-helpers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null. Under CI=true a missing browser is a failure, not a skip: the
 * CI script installs chromium, so its absence there is a broken set-up.
 */
export function chromiumSkipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  return `chromium not found at ${CHROMIUM} (apt-get install chromium fonts-noto-cjk, or set CHROMIUM_PATH)`;
}

/** The flags the machine notes call for: headless as root, and no background traffic to a closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

export interface ServeProcess {
  readonly url: string;
  readonly openUrl: string;
  readonly token: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `mail-ingest serve` as a user would (the real CLI), on a free port, and waits for its URL. */
export async function startServe(configPath: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const deadline = Date.now() + 60_000;
  const urlOf = (): RegExpExecArray | null => /Open (http:\/\/[^\s/]+)\/\?token=(\S+)/.exec(stdout);
  for (;;) {
    if (urlOf() !== null) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = urlOf()!;
  return {
    url: m[1]!,
    token: m[2]!,
    openUrl: `${m[1]}/?token=${m[2]}`,
    child,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A stand-in for the internet: an HTTP server that answers everything and records each request it gets. */
export async function startWitness(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('Content-Type', req.url?.endsWith('.png') ? 'image/png' : 'text/plain');
    res.end(
      req.url?.endsWith('.png')
        ? Buffer.from(
            '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
              '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
            'hex',
          )
        : 'ok',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const OUTPUT_DIR = path.resolve(import.meta.dirname, '../output/serve');
const DOCS_DIR = path.resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * Where a screenshot goes: test/output/serve/ (ignored by git). With MAIL_INGEST_SCREENSHOTS=docs it is also
 * copied to docs/screenshots/ for the README; a plain test run never changes tracked files.
 */
export async function keepScreenshot(file: string): Promise<void> {
  if (process.env.MAIL_INGEST_SCREENSHOTS !== 'docs') return;
  await mkdir(DOCS_DIR, { recursive: true });
  await copyFile(file, path.join(DOCS_DIR, path.basename(file)));
}
