import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../../config/index.ts';
import { DEMO_CONFIG_FILE, DEMO_PASSWORD, DEMO_USER, demoConfig } from '../demo/demo-config.ts';
import { arrivingMessage, arrivingSubject, demoMessages } from '../demo/demo-messages.ts';
import { demoServerCredentials, startDemoServer } from '../demo/pop3-server.ts';
import { parseDuration } from '../interval.ts';
import { portOption, UsageError } from '../usage-error.ts';
import { untilStopped } from '../until-stopped.ts';

export interface DemoServeOptions {
  readonly dir: string;
  readonly port?: string;
  readonly mailEvery: string;
}

const stamp = (): string => new Date().toLocaleTimeString('en-GB', { hour12: false });

/**
 * `demo --serve`: the demo's POP3S server stays up, with a config for it written beside the archive, so every
 * command can be tried on a live server; a new message arrives every --mail-every until SIGINT/SIGTERM.
 */
export async function demoServeCommand(o: DemoServeOptions): Promise<number> {
  const port = portOption(o.port, 1) ?? 0;
  const every = parseDuration(o.mailEvery, '--mail-every', 1_000);
  const dir = path.resolve(o.dir);
  const { key, cert } = await demoServerCredentials();
  const server = await startDemoServer({ key, cert, user: DEMO_USER, password: DEMO_PASSWORD, messages: demoMessages(), port }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        throw new UsageError(`--port: 127.0.0.1:${port} is already in use; pick another or leave --port out for a free one`);
      throw err;
    },
  );
  const raw = demoConfig(dir, server.port);
  parseConfig(raw, { baseDir: process.cwd() }); // the file written is one `run` accepts
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, DEMO_CONFIG_FILE);
  await writeFile(file, `${JSON.stringify(raw, null, 2)}\n`);
  const rel = path.relative(process.cwd(), file) || file;
  process.stdout.write(
    [
      `mail-ingest demo --serve: a POP3S server on 127.0.0.1:${server.port} with ${server.messages.length} messages; a new one arrives every ${o.mailEvery}.`,
      `Config: ${file}`,
      '',
      JSON.stringify(raw, null, 2),
      '',
      'Try, in another terminal:',
      `  mail-ingest check  --config ${rel}          # TLS, certificate, login, message count; changes nothing`,
      `  mail-ingest run    --config ${rel}          # ingest what is new`,
      `  mail-ingest status --config ${rel}          # what the state holds`,
      `  mail-ingest run    --config ${rel} --every 10s   # keep polling; Ctrl-C finishes the run in progress`,
      `  retention: set "retention": "delete" (or { "deleteAfterDays": 0 }) in ${rel}, run again: the server is emptied of what is archived`,
      `New mail now: kill -USR2 ${process.pid}. Ctrl-C stops the server (its mail lives in memory; the archive and the state stay).`,
      '',
    ].join('\n'),
  );

  let n = 0;
  const arrive = (): void => {
    n += 1;
    server.messages.push(arrivingMessage(n));
    process.stdout.write(`${stamp()} new mail: ${arrivingSubject(n)} (${server.messages.length} on the server)\n`);
  };
  const timer = setInterval(arrive, every);
  // SIGUSR2: a message now, not at the next tick (tests, and anyone trying retention step by step).
  process.on('SIGUSR2', arrive);
  await untilStopped();
  process.off('SIGUSR2', arrive);
  clearInterval(timer);
  await server.close();
  process.stdout.write(`${stamp()} demo server stopped\n`);
  return 0;
}
