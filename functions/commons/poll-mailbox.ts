import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { resolveSecret } from '../../lib/config/secrets.ts';
import { redactDeep } from '../../lib/redact.ts';
import { leasedLine, withMailboxLease } from '../../lib/app/mailbox-lease.ts';
import { resolveCredentials, toMailboxJob } from '../../lib/app/mailbox-job.ts';
import type { MailboxCredentials } from '../../lib/app/mailbox-job.ts';
import type { Config, MailboxConfig } from '../../lib/config/types.ts';
import type { MailboxRunSummary, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import type { Adapters } from '../../lib/app/adapters.ts';
import type { SecretsManagerLike } from '../../lib/config/secrets.ts';
import type { PollJob } from './poll-job.ts';
import { errorFields } from './powertools.ts';
import { CodedError } from '../../lib/coded-error.ts';
import { hasOAuth2, rawStoreTokenStatus, tokenHealth } from '../../lib/oauth2/index.ts';
import { oauth2Login } from '../../lib/app/oauth2-login.ts';

export interface PollDeps {
  readonly config: () => Promise<Config>;
  readonly secretsManager: SecretsManagerLike;
  readonly adapters: (config: Config) => Adapters | Promise<Adapters>;
  readonly runMailbox: (options: RunMailboxOptions) => Promise<MailboxRunSummary>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Time kept back from the Lambda deadline to commit state, QUIT and report. */
  readonly safetyMarginMs: number;
}

/** A mailbox run that did not succeed: the poll job goes back to the queue (and, after maxReceiveCount, to the DLQ). */
export class MailboxRunError extends CodedError {
  readonly summary: MailboxRunSummary;
  constructor(summary: MailboxRunSummary) {
    super(
      'MailboxRunError',
      summary.error?.code ?? 'EFAILED',
      `mailbox ${summary.mailbox} run failed: ${summary.error?.class ?? 'storage'} ${summary.error?.code ?? ''}`.trim(),
      { retryable: true, failureClass: summary.error?.class ?? 'storage' },
    );
    this.summary = summary;
  }
}

export type PollOutcome =
  | { readonly status: 'ran'; readonly summary: MailboxRunSummary }
  | {
      readonly status: 'skipped';
      readonly reason: 'unknown-mailbox' | 'disabled' | 'leased' | 'login-delay';
      readonly summary?: MailboxRunSummary;
    };

function credentials(
  m: MailboxConfig,
  secretsManager: SecretsManagerLike,
  tokens: Parameters<typeof resolveCredentials>[2],
): Promise<MailboxCredentials> {
  return resolveCredentials(m, (ref) => resolveSecret(ref, { secretsManager }), tokens);
}

/** OAuth 2 mailboxes only: whether getting a token failed, and days since the provider last issued one. */
interface TokenMetrics {
  readonly failed: boolean;
  readonly daysSinceRefresh: number | null;
}

function emit(metrics: Metrics, mailbox: string, summary: MailboxRunSummary | null, token: TokenMetrics | null = null): void {
  metrics.addDimension('mailbox', mailbox);
  if (summary !== null) {
    metrics.addMetric('MessagesIngested', MetricUnit.Count, summary.stored);
    metrics.addMetric('BytesIngested', MetricUnit.Bytes, summary.bytes);
    metrics.addMetric('PollDurationMs', MetricUnit.Milliseconds, summary.durationMs);
  }
  metrics.addMetric('PollFailures', MetricUnit.Count, summary?.ok === true ? 0 : 1);
  metrics.addMetric('AuthFailures', MetricUnit.Count, summary?.error?.class === 'auth' ? 1 : 0);
  if (token !== null) {
    metrics.addMetric('TokenFailures', MetricUnit.Count, token.failed ? 1 : 0);
    // A delegated refresh token dies after the provider's idle period (Entra ID: 90 days): the alarm watches this.
    if (token.daysSinceRefresh !== null) metrics.addMetric('DaysSinceTokenRefresh', MetricUnit.Count, token.daysSinceRefresh);
  }
  metrics.publishStoredMetrics();
}

async function tokenMetrics(m: MailboxConfig, adapters: Adapters | null, errorCode: string | undefined): Promise<TokenMetrics | null> {
  if (!hasOAuth2(m)) return null;
  const record =
    adapters === null
      ? null
      : await rawStoreTokenStatus(adapters.store)
          .read(m.id)
          .catch(() => null);
  return { failed: errorCode?.startsWith('EOAUTH2_') === true, daysSinceRefresh: tokenHealth(m.oauth2, m.id, record).daysSinceRefresh };
}

/**
 * One poll job: the mailbox's config, its password from Secrets Manager, then the ingest pipeline against S3 and
 * SQS until `deadline`. Logs carry the mailbox id and never the job's connection options (they hold the password).
 */
export async function pollMailbox(job: PollJob, remainingMs: number, deps: PollDeps): Promise<PollOutcome> {
  const { logger, metrics } = deps;
  const config = await deps.config();
  const mailbox = config.mailboxes.find((m) => m.id === job.mailboxId);
  // Removed or paused since the job was queued: nothing to do, and retrying would not change that.
  if (mailbox === undefined) {
    logger.warn('poll job for a mailbox not in the config: dropped', { mailbox: job.mailboxId, scheduledAt: job.scheduledAt });
    return { status: 'skipped', reason: 'unknown-mailbox' };
  }
  if (!mailbox.enabled) {
    logger.info('mailbox disabled: poll job dropped', { mailbox: job.mailboxId });
    return { status: 'skipped', reason: 'disabled' };
  }

  logger.appendKeys({ mailbox: mailbox.id });
  try {
    let summary: MailboxRunSummary;
    let adapters: Adapters | null = null;
    try {
      const log: RunMailboxOptions['log'] = (level, message, fields) => logger[level](message, redactDeep({ ...fields }));
      const made = await deps.adapters(config);
      adapters = made;
      // OAuth 2: the access token, refreshed (and a rotated refresh token stored) when due; a refused one renewed once.
      const login = oauth2Login(mailbox, {
        resolve: (ref) => resolveSecret(ref, { secretsManager: deps.secretsManager }),
        status: rawStoreTokenStatus(made.store),
        log,
      });
      const creds = await credentials(mailbox, deps.secretsManager, login.tokens);
      const pipelineJob = await toMailboxJob(mailbox, creds);
      // The smaller of the mailbox's maxSessionSeconds and the invocation's time left less the margin: no message
      // is requested after it. Half the margin later the connection is dropped, whatever the server does, so the
      // final commit and the report still fit before Lambda stops the function.
      const started = Date.now();
      const session = started + pipelineJob.maxSessionSeconds! * 1000;
      const deadline = Math.min(session, started + remainingMs - deps.safetyMarginMs);
      const cutoff = Math.min(session, started + remainingMs - deps.safetyMarginMs / 2);
      summary = await withMailboxLease(made.leases, mailbox.id, { log }, (signal) =>
        deps.runMailbox({
          job: pipelineJob,
          ...made,
          deadline,
          cutoff,
          ...(signal === undefined ? {} : { signal }),
          log,
          ...(login.connect === undefined ? {} : { connect: login.connect }),
        }),
      );
    } catch (err) {
      // Config, secret, token or adapter failures happen before the pipeline can summarise anything.
      logger.error('mailbox poll failed before the run', { scheduledAt: job.scheduledAt, ...errorFields(err) });
      emit(metrics, mailbox.id, null, await tokenMetrics(mailbox, adapters, (err as { code?: string }).code));
      throw err;
    }
    if (summary.leasedBy !== undefined) {
      // Another run (a CLI run against the same bucket, a redelivered job) has it: done, and nothing to retry.
      logger.info(leasedLine(summary), { holder: summary.leasedBy, scheduledAt: job.scheduledAt });
      return { status: 'skipped', reason: 'leased' };
    }
    emit(metrics, mailbox.id, summary, await tokenMetrics(mailbox, adapters, summary.error?.code));
    const { error, ...counts } = summary;
    if (error?.retryAfterSeconds !== undefined) {
      // RFC 2449 LOGIN-DELAY: a redrive would be refused the same way; the next scheduled poll is the retry.
      logger.warn('login refused as too soon (LOGIN-DELAY): left for the next scheduled poll; schedule polls at least this far apart', {
        ...counts,
        error,
        retryAfterSeconds: error.retryAfterSeconds,
        scheduledAt: job.scheduledAt,
      });
      return { status: 'skipped', reason: 'login-delay', summary };
    }
    if (!summary.ok) {
      logger.error('mailbox run failed', { ...counts, error, scheduledAt: job.scheduledAt });
      throw new MailboxRunError(summary);
    }
    logger.info('mailbox run finished', { ...counts, scheduledAt: job.scheduledAt });
    return { status: 'ran', summary };
  } finally {
    logger.removeKeys(['mailbox']);
  }
}
