import { Token } from 'aws-cdk-lib';
import { secretIdsOf, validateDeploymentConfig } from './deployment-config.ts';
import type { MailIngestProps } from './mail-ingest.ts';
import { isSecretArn, secretIdProblems } from './secret-arns.ts';

/** Above this many mailbox secrets the exact ARNs no longer fit in one IAM policy. */
export const MAX_EXACT_SECRETS = 100;
/** Up to this many mailboxes, each gets its own PollFailures alarm unless `perMailboxAlarms` says otherwise. */
export const AUTO_PER_MAILBOX_ALARMS = 25;
const MAX_PER_MAILBOX_ALARMS = 100;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * One rule per prop (or pair of props that conflict): each returns the problems it finds, quoting the bad value.
 * The construct runs them all and reports every problem in one error, so one edit can fix them all.
 */
export interface PropRule {
  readonly prop: string;
  readonly check: (props: MailIngestProps) => readonly string[];
}

const problem = (condition: boolean, text: string): string[] => (condition ? [text] : []);
const wholeInRange = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;

export const MAIL_INGEST_RULES: readonly PropRule[] = [
  { prop: 'config', check: (p) => validateDeploymentConfig(p.config) },
  {
    prop: 'schedule',
    check: (p) => {
      const minutes = p.schedule?.toMinutes({ integral: false });
      return problem(
        minutes !== undefined && !wholeInRange(minutes, 1, 1440),
        `schedule: must be whole minutes from 1 minute to 1 day, got ${p.schedule?.toHumanString()}`,
      );
    },
  },
  {
    prop: 'pollerTimeout',
    check: (p) => {
      const seconds = p.pollerTimeout?.toSeconds();
      return problem(
        seconds !== undefined && (seconds < 30 || seconds > 900),
        `pollerTimeout: must be from 30 seconds to 15 minutes, got ${p.pollerTimeout?.toHumanString()}`,
      );
    },
  },
  {
    prop: 'pollerMemoryMiB',
    check: (p) =>
      problem(
        p.pollerMemoryMiB !== undefined && !wholeInRange(p.pollerMemoryMiB, 256, 10_240),
        `pollerMemoryMiB: must be a whole number from 256 to 10240, got ${p.pollerMemoryMiB}`,
      ),
  },
  {
    prop: 'pollerConcurrency',
    check: (p) =>
      problem(
        p.pollerConcurrency !== undefined && !wholeInRange(p.pollerConcurrency, 2, 1000),
        `pollerConcurrency: must be a whole number from 2 to 1000 (an SQS event source limit), got ${p.pollerConcurrency}`,
      ),
  },
  {
    prop: 'alarmEmail, alarmTopic',
    check: (p) =>
      problem(
        p.alarmEmail !== undefined && p.alarmTopic !== undefined,
        'alarmEmail and alarmTopic: give one; to email an existing topic, subscribe the address to it',
      ),
  },
  {
    prop: 'alarmEmail',
    check: (p) =>
      problem(
        p.alarmEmail !== undefined && !Token.isUnresolved(p.alarmEmail) && !EMAIL.test(p.alarmEmail),
        `alarmEmail: ${JSON.stringify(p.alarmEmail)} is not an email address`,
      ),
  },
  {
    prop: 'archiveObjectLock',
    check: (p) => {
      const lock = p.archiveObjectLock;
      if (lock === undefined) return [];
      return [
        ...problem(
          lock.mode !== 'GOVERNANCE' && lock.mode !== 'COMPLIANCE',
          `archiveObjectLock.mode: must be "GOVERNANCE" or "COMPLIANCE", got ${JSON.stringify(lock.mode)}`,
        ),
        ...problem(!wholeInRange(lock.days, 1, 36_500), `archiveObjectLock.days: must be whole days from 1 to 36500, got ${lock.days}`),
      ];
    },
  },
  ...(['archiveTransitionAfterDays', 'archiveNoncurrentVersionExpirationDays'] as const).map(
    (key): PropRule => ({
      prop: key,
      check: (p) => {
        const days = p[key];
        return problem(
          days !== undefined && !wholeInRange(days, 1, Number.MAX_SAFE_INTEGER),
          `${key}: must be a whole number of days, at least 1, got ${days}`,
        );
      },
    }),
  ),
  {
    prop: 'dashboardName',
    check: (p) =>
      problem(
        p.dashboardName !== undefined && !Token.isUnresolved(p.dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(p.dashboardName),
        `dashboardName: ${JSON.stringify(p.dashboardName)} must be 1-255 letters, digits, "_" or "-"`,
      ),
  },
  {
    prop: 'perMailboxAlarms',
    check: (p) => {
      const count = Array.isArray(p.config?.mailboxes) ? p.config.mailboxes.length : 0;
      return problem(
        p.perMailboxAlarms === true && count > MAX_PER_MAILBOX_ALARMS,
        `perMailboxAlarms: ${count} mailboxes would need ${count} alarms (at most ${MAX_PER_MAILBOX_ALARMS}; a stack holds 500 resources); leave it unset for one alarm over all mailboxes`,
      );
    },
  },
];

/** The secret rules need a valid config (they read its secret ids), so they run after the others pass. */
const SECRET_RULES: readonly PropRule[] = [
  { prop: 'config', check: (p) => secretIdsOf(p.config).flatMap((id) => secretIdProblems(id).map((x) => `config secretId: ${x}`)) },
  {
    prop: 'secretNamePrefix',
    check: (p) => {
      const ids = secretIdsOf(p.config);
      const prefix = p.secretNamePrefix;
      if (prefix === undefined) {
        return problem(
          ids.length > MAX_EXACT_SECRETS,
          `secretNamePrefix: ${ids.length} mailbox secrets do not fit in one IAM policy (at most ${MAX_EXACT_SECRETS}); name them under a common prefix such as "mail-ingest/" and set secretNamePrefix`,
        );
      }
      return [
        ...problem(
          !/^[A-Za-z0-9/_+=.@-]{1,256}$/.test(prefix),
          `secretNamePrefix: ${JSON.stringify(prefix)} is not a secret name prefix (letters, digits and /_+=.@-)`,
        ),
        ...ids
          .filter((id) => !(isSecretArn(id) ? id.split(':').slice(6).join(':') : id).startsWith(prefix))
          .map((id) => `secretNamePrefix: the secret ${JSON.stringify(id)} is not under ${JSON.stringify(prefix)}`),
      ];
    },
  },
];

export function validateMailIngestProps(props: MailIngestProps): string[] {
  const problems = MAIL_INGEST_RULES.flatMap((r) => r.check(props));
  return problems.length > 0 ? problems : SECRET_RULES.flatMap((r) => r.check(props));
}
