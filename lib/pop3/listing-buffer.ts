import { Pop3Error } from './errors.ts';

/**
 * The lines of one multi-line listing (LIST, UIDL, CAPA) as they arrive, dot-unstuffed. What it may cost is capped
 * in entries and in wire bytes, checked before a line is kept: a server sending gigabytes of listing costs at most
 * the caps in memory and fails with ELISTINGLIMIT.
 */
export class ListingBuffer {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #lines: string[] = [];
  #bytes = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** Adds a line that took `bytes` on the wire (line ending included). */
  add(line: string, bytes: number, verb: string): void {
    this.#bytes += bytes;
    if (this.#lines.length >= this.#maxEntries || this.#bytes > this.#maxBytes) {
      const over =
        this.#lines.length >= this.#maxEntries
          ? `more than ${this.#maxEntries} entries (maxListingEntries)`
          : `more than ${this.#maxBytes} bytes (maxListingBytes)`;
      throw new Pop3Error(
        'ELISTINGLIMIT',
        `${verb} listing of ${over}: refused; raise the limit if the maildrop really holds that many messages`,
        { command: verb },
      );
    }
    this.#lines.push(line.startsWith('.') ? line.slice(1) : line);
  }

  /** The lines so far; the buffer starts over for the next listing. */
  take(): string[] {
    const lines = this.#lines;
    this.#lines = [];
    this.#bytes = 0;
    return lines;
  }
}
