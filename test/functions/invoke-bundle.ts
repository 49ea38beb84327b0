/**
 * Runs in a fresh `node` process, as Lambda's runtime would: imports a bundled handler, invokes it once with the
 * event read from stdin, and prints the outcome as one `__RESULT__ <json>` line. Everything else on stdout is
 * what the function itself wrote (Powertools logs and EMF metrics).
 * Input: { bundle: string, event: unknown, remainingMs?: number, functionName?: string }
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
  bundle: string;
  event: unknown;
  remainingMs?: number;
  functionName?: string;
};

const started = Date.now();
const remainingMs = input.remainingMs ?? 900_000;
const functionName = input.functionName ?? 'mail-ingest-test';
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => Math.max(0, remainingMs - (Date.now() - started)),
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

let line: string;
try {
  const mod = (await import(pathToFileURL(input.bundle).href)) as { handler: (e: unknown, c: unknown) => Promise<unknown> };
  const result = await mod.handler(input.event, context);
  line = JSON.stringify({ ok: true, result: result ?? null });
} catch (err) {
  const e = err as { name?: string; message?: string; code?: string };
  line = JSON.stringify({ ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code ?? null } });
}
process.stdout.write(`\n__RESULT__ ${line}\n`, () => process.exit(0));
