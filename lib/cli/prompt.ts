/**
 * Questions on a terminal (node:readline), or answers read line by line from a pipe (`init --interactive`).
 * Lines are queued as they arrive: readline's own question() drops lines that came before it was called, which
 * is every line of piped answers after the first.
 */
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

export interface Prompter {
  /** Asks; an empty answer takes `fallback` (shown in brackets). Null when the input ended. */
  ask(question: string, fallback?: string): Promise<string | null>;
  /** Asks without echoing what is typed (on a terminal). */
  secret(question: string): Promise<string | null>;
  close(): void;
}

export function createPrompter(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Prompter {
  let muted = false;
  // Echo goes through here, so that a password is not shown; the prompt itself is written directly.
  const echo = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const terminal = (input as { isTTY?: boolean }).isTTY === true && output.isTTY === true;
  const rl: Interface = createInterface({ input, output: echo, terminal });
  const lines: string[] = [];
  const waiting: Array<(line: string | null) => void> = [];
  let ended = false;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  const nextLine = (): Promise<string | null> => {
    if (lines.length > 0) return Promise.resolve(lines.shift()!);
    if (ended) return Promise.resolve(null);
    return new Promise((resolve) => waiting.push(resolve));
  };
  return {
    async ask(question, fallback) {
      output.write(`${question}${fallback === undefined || fallback === '' ? '' : ` [${fallback}]`}: `);
      const line = await nextLine();
      if (!terminal) output.write('\n');
      if (line === null) return null;
      const answer = line.trim();
      return answer === '' && fallback !== undefined ? fallback : answer;
    },
    async secret(question) {
      output.write(`${question}: `);
      muted = true;
      try {
        return await nextLine();
      } finally {
        muted = false;
        output.write('\n');
      }
    },
    close() {
      rl.close();
    },
  };
}
