import type { Readable } from 'node:stream';
import type { Pop3ErrorCode } from './errors.ts';

/** How a command's response is framed: one status line, a listing (LIST, UIDL, CAPA), or a streamed body (RETR, TOP). */
export type ResponseKind = 'single' | 'lines' | 'body';

/** What the connection hands a command's parser once the response (or, for a body, its status line) is in. */
export interface RawResponse {
  /** Status line text after "+OK" (leading space removed). */
  readonly text: string;
  /** Listing lines, dot-unstuffed, terminator removed (kind 'lines'). */
  readonly lines: readonly string[];
  /** The body (kind 'body'). */
  readonly stream: Readable | null;
}

export interface CommandSpec<T> {
  /** The command as sent, without CRLF. May hold a secret: never logged, never put into an error. */
  readonly line: string;
  /** What errors may show: the verb only when the arguments may carry a secret. */
  readonly verb: string;
  readonly kind: ResponseKind;
  /** Code of the error for a -ERR without a more specific response code. @default 'ECOMMAND' */
  readonly errorCode?: Pop3ErrorCode;
  /** STLS: after its +OK nothing more may be read from the plain socket. */
  readonly upgrade?: boolean;
  /** QUIT: nothing may be sent after it. */
  readonly quit?: boolean;
  /** SASL: a "+ challenge" line answered with the returned line (sent at once, never pipelined). */
  readonly onContinuation?: (challenge: string) => string;
  /** Turns the response into the result; a thrown Pop3Error (EPROTOCOL) is fatal to the session. */
  readonly parse: (response: RawResponse) => T;
}
