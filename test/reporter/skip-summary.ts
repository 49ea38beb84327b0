/**
 * The reporter of `npm test`: node's own spec output, unchanged (CI reads its closing `ℹ tests N`, `ℹ pass N`,
 * `ℹ fail N` lines), followed by what was skipped and why. Node counts a skipped `describe` as a suite, not in
 * `ℹ skipped`, so a machine without Dovecot or root would otherwise end with `skipped 0` while whole suites did not
 * run. Every skip must go through node:test (`{ skip: reason }` or `t.skip(reason)`) to be listed here.
 */
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { spec } from 'node:test/reporters';

interface TestEvent {
  type: string;
  data: { name: string; nesting: number; file?: string; skip?: string | boolean; details?: { type?: string } };
}

interface Skipped {
  readonly file: string;
  readonly name: string;
  readonly suite: boolean;
  readonly reason: string;
}

const ROOT = process.cwd();

/** Grouped by reason, the largest group first: one reason (no Dovecot, not root) usually explains most skips. */
export function skipSummary(skipped: readonly Skipped[]): string {
  if (skipped.length === 0) return '\nskipped: nothing\n';
  const suites = skipped.filter((s) => s.suite).length;
  const tests = skipped.length - suites;
  const count = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const byReason = new Map<string, Skipped[]>();
  for (const s of skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s]);
  const lines = [`skipped: ${count(suites, 'suite')} (their tests did not run) and ${count(tests, 'test')}, and why:`];
  for (const [reason, list] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${reason}`);
    for (const s of list) lines.push(`    ${s.file} › ${s.name}${s.suite ? ' (suite)' : ''}`);
  }
  return `\n${lines.join('\n')}\n`;
}

export default class SkipSummaryReporter extends Transform {
  readonly #spec = new spec();
  readonly #skipped: Skipped[] = [];

  constructor() {
    super({ writableObjectMode: true });
    this.#spec.on('data', (chunk: string | Buffer) => this.push(chunk));
  }

  override _transform(event: TestEvent, _encoding: BufferEncoding, done: TransformCallback): void {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.skip !== undefined && event.data.skip !== false) {
      this.#skipped.push({
        file: event.data.file === undefined ? '?' : path.relative(ROOT, event.data.file),
        name: event.data.name,
        suite: event.data.details?.type === 'suite',
        reason: typeof event.data.skip === 'string' && event.data.skip !== '' ? event.data.skip : '(no reason given)',
      });
    }
    this.#spec.write(event, done);
  }

  override _flush(done: TransformCallback): void {
    this.#spec.once('end', () => {
      this.push(skipSummary(this.#skipped));
      done();
    });
    this.#spec.end();
  }
}
