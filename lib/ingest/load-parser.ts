import type { parseMessage } from '../parse/parse-message.ts';

let loading: Promise<typeof parseMessage> | null = null;

/**
 * The parser, imported on first use: with small messages parsed in the worker thread (parse-pool.ts), the thread
 * that reads the socket needs mailparser and the charset tables (about 20 MB once loaded) only for a message too
 * large to hand over, or when the worker fails.
 */
export function loadParser(): Promise<typeof parseMessage> {
  loading ??= import('../parse/parse-message.ts').then((m) => m.parseMessage);
  return loading;
}
