/**
 * Parsing off the thread that reads the socket. For small messages mailparser is the largest CPU cost and most of
 * the garbage: in a worker thread it runs beside the POP3 session, the hashing and the fsyncs (machines have two
 * cores or more), its garbage stays out of the main heap (whose young generation otherwise grows to 128 MB), and a
 * message that makes it run away (a loop, memory) costs that message's parse, never the process. Results are what
 * `parseMessage` gives in-process.
 *
 * Measured (2,000 x 5 KB, 2 vCPUs): the run takes 20 to 25% less wall time and 40 to 50 MB less peak RSS. A large
 * message streamed to a worker costs about 50 MB more (the chunks are copied to the other thread and wait for
 * its collector), so streamed messages are parsed in-process, as before (receive-message.ts). Without the worker file (a single-file
 * bundle such as a Lambda's) or when no worker can start, everything is parsed in-process.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParsedMessage } from '../document/metadata-schema.ts';
import { findHeaderEnd } from '../parse/header-block.ts';
import { loadParser } from './load-parser.ts';
import type { ParseReply, ParseRequest } from './parse-worker.ts';

/** parseMessage gives up after 60 s itself; a worker silent for longer than this with work queued is stuck. */
const STUCK_MS = 90_000;
/** The parser's heap: ample for any message the parse limits let through, small next to the process. */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 192 };

interface Job {
  readonly bytes: Buffer;
  readonly resolve: (parsed: ParsedMessage) => void;
}

function workerUrl(): URL | null {
  // In the CLI's esbuild bundle this module sits in a chunk beside parse-worker.mjs; from the sources, beside parse-worker.ts.
  const url = new URL(import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.mjs', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** What is left when the worker failed on a message: its headers, parsed here, and why the rest is not. */
async function headersOnly(bytes: Buffer, why: string): Promise<ParsedMessage> {
  const end = findHeaderEnd(bytes);
  const parseMessage = await loadParser();
  const parsed = await parseMessage(Readable.from([end < 0 ? bytes.subarray(0, 256 * 1024) : bytes.subarray(0, end)]));
  return { ...parsed, attachments: [], snippet: '', parseError: why };
}

export class ParsePool {
  readonly #url: URL | null;
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #jobs = new Map<number, Job>();
  #timer: NodeJS.Timeout | null = null;

  constructor(url: URL | null = workerUrl()) {
    this.#url = url;
  }

  /** True when small messages are parsed in a worker thread. */
  get threaded(): boolean {
    return this.#url !== null;
  }

  /** Parses a message held in memory (in the worker when there is one). Never rejects, like parseMessage. */
  parse(bytes: Buffer): Promise<ParsedMessage> {
    const worker = this.#ensure();
    if (worker === null) return loadParser().then((parseMessage) => parseMessage(Readable.from([bytes])));
    const id = this.#nextId++;
    const done = new Promise<ParsedMessage>((resolve) => this.#jobs.set(id, { bytes, resolve }));
    if (this.#jobs.size === 1) {
      worker.ref();
      this.#timer ??= setTimeout(() => this.#stuck(), STUCK_MS).unref();
    }
    const request: ParseRequest = { id, bytes };
    worker.postMessage(request);
    return done;
  }

  /** Stops the worker; parses still queued end with their headers only. */
  async close(): Promise<void> {
    const w = this.#worker;
    if (w !== null) await w.terminate();
  }

  #ensure(): Worker | null {
    if (this.#url === null) return null;
    if (this.#worker !== null) return this.#worker;
    let worker: Worker;
    try {
      worker = new Worker(this.#url, { resourceLimits: RESOURCE_LIMITS });
    } catch {
      return null;
    }
    worker.unref();
    worker.on('message', (m: ParseReply) => this.#done(m));
    // A worker that dies (out of memory, a crash) fails the parses it held, not the messages: they are archived
    // all the same, with their headers parsed here. The next parse starts a new worker.
    worker.on('error', (err) => this.#lost(worker, `parser stopped: ${err.message.slice(0, 160)}`));
    worker.on('exit', (code) => this.#lost(worker, `parser exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #done(m: ParseReply): void {
    const job = this.#jobs.get(m.id);
    if (job === undefined) return;
    this.#jobs.delete(m.id);
    this.#timer?.refresh();
    job.resolve(m.parsed);
    if (this.#jobs.size === 0) this.#idle();
  }

  #idle(): void {
    this.#worker?.unref();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #stuck(): void {
    const w = this.#worker;
    this.#timer = null;
    if (w === null || this.#jobs.size === 0) return;
    this.#lost(w, `parser gave no answer for ${STUCK_MS / 1000} s`);
    void w.terminate();
  }

  #lost(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    const jobs = [...this.#jobs.values()];
    this.#jobs.clear();
    this.#idle();
    for (const job of jobs) void headersOnly(job.bytes, why).then(job.resolve);
  }
}

let shared: ParsePool | null = null;

/** The process's parse pool, started on first use. */
export function parsePool(): ParsePool {
  shared ??= new ParsePool();
  return shared;
}
