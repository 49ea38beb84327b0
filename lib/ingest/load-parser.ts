import type { parseMessage } from '../parse/parse-message.ts';

let loading: Promise<typeof parseMessage> | null = null;

/**
 * The parser, imported on first use: mailparser and the charset tables (about 20 MB once loaded) are not loaded by
 * a run that finds no new mail, nor by the commands that never parse.
 */
export function loadParser(): Promise<typeof parseMessage> {
  loading ??= import('../parse/parse-message.ts').then((m) => m.parseMessage);
  return loading;
}
