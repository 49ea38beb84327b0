/**
 * The parse worker's thread (lib/ingest/parse-pool.ts): parses the messages the pool sends with the same
 * parseMessage the pipeline would run in-process, one after another (parsing is CPU work on one thread; thirty at
 * once would only keep thirty object graphs alive), and answers with each result.
 */
import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { parseMessage } from '../parse/parse-message.ts';
import type { ParsedMessage } from '../document/metadata-schema.ts';

export interface ParseRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
}
export interface ParseReply {
  readonly id: number;
  readonly parsed: ParsedMessage;
}

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts runs as a worker thread');
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: ParseRequest) => {
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  queue = queue.then(async () => {
    const reply: ParseReply = { id: m.id, parsed: await parseMessage(Readable.from([bytes])) };
    port.postMessage(reply);
  });
});
