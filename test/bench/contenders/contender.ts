/** What the benchmark needs to know about one downloader. */

export interface Mailbox {
  host: string;
  port: number;
  /** CA certificate file, readable by the unprivileged bench user. */
  caFile: string;
  /** Name the certificate is checked against (the proxy and Dovecot listen on 127.0.0.1). */
  servername: string;
  user: string;
  password: string;
}

export interface Launch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** fetchmail and getmail6 refuse or misbehave as root: run them as the unprivileged bench user. */
  unprivileged: boolean;
}

/**
 * Delivered messages as sha256 digests, after undoing exactly the changes the contender is documented to
 * make (fetchmail's Received header and LF endings, getmail6's LF endings). `form` says which form of the
 * mailbox's messages the digests are to be compared with: as served (CRLF) or as stored on disk (LF).
 */
export interface Delivered {
  form: 'crlf' | 'lf';
  digests: string[];
  /** Problems found while undoing the changes (a file that does not look as documented). */
  problems: string[];
}

export interface Contender {
  id: string;
  label: string;
  /** null when it can run here, else why not (shown in the report). */
  unavailable(): string | null;
  /** Writes configuration into `work` (fresh, owned by the user the contender runs as). */
  prepare(mailbox: Mailbox, work: string): Promise<Launch>;
  /** Messages delivered so far: after a timeout, progress tells how far it got. */
  count(work: string): Promise<number>;
  collect(work: string): Promise<Delivered>;
  /** Only for some workloads (the raw openssl read is a floor for the single large message). */
  appliesTo?(workloadId: string): boolean;
}
