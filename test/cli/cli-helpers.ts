import { spawn } from 'node:child_process';
import path from 'node:path';

/** The package's bin, as npx runs it in a clone: dist/cli/ if current, else a bundle in the user's cache, else the sources. */
export const BIN = path.resolve(import.meta.dirname, '../../lib/cli/bin.mjs');

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs the mail-ingest CLI in a fresh Node process, as a user would (no TTY: plain log lines). */
export function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`mail-ingest ${args.join(' ')} timed out\n${stderr}`)); }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
