import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from './ingest-function.ts';

export interface MonitoringProps {
  /** Mailbox ids (already validated: letters, digits, ".", "_", "-"), for per-mailbox alarms. */
  readonly mailboxIds: readonly string[];
  /** One PollFailures alarm per mailbox, or one for all. */
  readonly perMailboxAlarms: boolean;
  /** Where alarms notify. @default - a new encrypted topic when `alarmEmail` is set, otherwise no action */
  readonly alarmTopic?: sns.ITopic;
  /** Subscribed to a new topic. @default - none */
  readonly alarmEmail?: string;
  /** The schedule's period, the time window of the poll alarms. */
  readonly period: Duration;
  readonly dashboardName?: string;
}

/**
 * A Metrics Insights query over the functions' EMF metrics. Insights sums every series of the metric whatever
 * its other dimensions (Powertools adds `service`), so the alarm matches what the poller emits without knowing
 * its exact dimension set.
 */
function insights(metric: string, label: string, period: Duration, where?: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SELECT SUM(${metric}) FROM ${METRICS_NAMESPACE}${where === undefined ? '' : ` WHERE ${where}`}`,
    usingMetrics: {},
    label,
    period,
  });
}

/** Alarms on poll and authentication failures and on every queue, a dashboard, and an optional alarm topic. */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmTopic?: sns.ITopic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly #period: Duration;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.#period = props.period;
    this.alarmTopic = props.alarmTopic;
    if (this.alarmTopic === undefined && props.alarmEmail !== undefined) {
      // CloudWatch publishes to an encrypted topic only if the key lets it; the archive key is not shared for this.
      const key = new kms.Key(this, 'AlarmTopicKey', {
        description: 'mail-ingest alarm topic',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      const topic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: 'mail-ingest alarms' });
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      this.alarmTopic = topic;
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });
    const p = props.period;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Messages ingested', left: [insights('MessagesIngested', 'messages', p)], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Bytes ingested', left: [insights('BytesIngested', 'bytes', p)], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Poll duration (max ms)',
        left: [
          new cloudwatch.MathExpression({
            expression: `SELECT MAX(PollDurationMs) FROM ${METRICS_NAMESPACE}`,
            usingMetrics: {},
            label: 'max',
            period: p,
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Poll failures by mailbox (top 10)',
        left: [
          new cloudwatch.MathExpression({
            expression: `SELECT SUM(PollFailures) FROM ${METRICS_NAMESPACE} GROUP BY mailbox ORDER BY SUM() DESC LIMIT 10`,
            usingMetrics: {},
            label: '',
            period: p,
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Authentication failures by mailbox (top 10)',
        left: [
          new cloudwatch.MathExpression({
            expression: `SELECT SUM(AuthFailures) FROM ${METRICS_NAMESPACE} GROUP BY mailbox ORDER BY SUM() DESC LIMIT 10`,
            usingMetrics: {},
            label: '',
            period: p,
          }),
        ],
        width: 12,
      }),
    );

    if (props.perMailboxAlarms) {
      for (const mailbox of props.mailboxIds) {
        this.#alarm(`PollFailures-${mailbox}`, {
          metric: insights('PollFailures', `poll failures ${mailbox}`, p, `mailbox = '${mailbox}'`),
          description: `Mailbox "${mailbox}" failed to poll. The poller's log lines with mailbox=${mailbox} say why (auth, TLS, network, protocol, storage).`,
        });
      }
    } else {
      this.#alarm('PollFailures', {
        metric: insights('PollFailures', 'poll failures', p),
        description: 'A mailbox failed to poll. The dashboard\'s "Poll failures by mailbox" shows which; the poller\'s log lines say why.',
      });
    }
    this.#alarm('AuthFailures', {
      metric: insights('AuthFailures', 'authentication failures', p),
      description:
        'A mailbox was refused at login. Check its secret in Secrets Manager (the dashboard shows which mailbox); repeated failures can lock the account at the ISP.',
    });
  }

  /**
   * OAuth 2 mailboxes (the poller's TokenFailures and DaysSinceTokenRefresh metrics): any failure to get an access
   * token, and a refresh token left unused for 30 days, a third of Entra ID's 90-day idle expiry.
   */
  monitorTokens(): void {
    const p = this.#period;
    const age = new cloudwatch.MathExpression({
      expression: `SELECT MAX(DaysSinceTokenRefresh) FROM ${METRICS_NAMESPACE}`,
      usingMetrics: {},
      label: 'days since the last refresh (max)',
      period: p,
    });
    this.#alarm('TokenFailures', {
      metric: insights('TokenFailures', 'token failures', p),
      description:
        'An OAuth 2 mailbox could not get an access token. The poller\'s log line "getting an access token failed" names the mailbox, the code and the provider\'s (AADSTS...). EOAUTH2_GRANT: a person must sign in again with `mail-ingest auth`; EOAUTH2_UNAVAILABLE: the provider was down, retried next poll.',
    });
    this.#alarm('TokenRefreshAge', {
      metric: age,
      threshold: 30,
      description:
        "An OAuth 2 mailbox's refresh token has not been used for 30 days or more; Entra ID expires it after 90 days unused (Google after 180). Check that the mailbox is polled and its polls succeed.",
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'OAuth 2 tokens',
        left: [insights('TokenFailures', 'token failures', p)],
        right: [age],
        width: 12,
      }),
    );
  }

  /** DLQ depth above zero, and the oldest message older than `maxAge`. */
  monitorQueues(label: string, queue: sqs.IQueue, deadLetterQueue: sqs.IQueue, maxAge: Duration): void {
    this.#alarm(`${label}DeadLetters`, {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      description: `Messages reached the dead-letter queue of ${label} after repeated failures. Inspect them, fix the cause, then redrive.`,
    });
    this.#alarm(`${label}OldestMessage`, {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: maxAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      description: `The oldest message in ${label}'s queue is older than ${maxAge.toHumanString()}: its consumer is failing or falling behind.`,
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${label}: queue`,
        left: [
          queue.metricApproximateNumberOfMessagesVisible({ label: 'visible' }),
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'dead letters' }),
        ],
        right: [queue.metricApproximateAgeOfOldestMessage({ label: 'oldest (s)' })],
        width: 12,
      }),
    );
  }

  /** Errors of a function on the dashboard; with `alarm`, an alarm on any error. */
  monitorFunction(label: string, fn: lambda.IFunction, alarm: boolean): void {
    if (alarm) {
      this.#alarm(`${label}Errors`, {
        metric: fn.metricErrors({ period: this.#period, statistic: 'Sum' }),
        description: `${label} failed: polls may not have been scheduled. See its log group.`,
      });
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${label}: invocations`,
        left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
        right: [fn.metricDuration({ statistic: 'p99' })],
        width: 12,
      }),
    );
  }

  #alarm(
    id: string,
    options: {
      metric: cloudwatch.IMetric;
      description: string;
      threshold?: number;
      evaluationPeriods?: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric: options.metric,
      alarmDescription: options.description,
      threshold: options.threshold ?? 1,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      // No data means nothing failed (and no messages waited): metrics are emitted only when something happens.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic !== undefined) {
      alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    }
    this.alarms.push(alarm);
    return alarm;
  }
}
