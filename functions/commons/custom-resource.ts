/**
 * The CloudFormation custom-resource protocol, for a function CloudFormation invokes directly (no Provider
 * framework, whose extra functions would bring their own runtime and grants). CloudFormation waits for one PUT
 * of a JSON answer to the pre-signed `ResponseURL`; a handler that never answers leaves the stack waiting until
 * the resource's ServiceTimeout. So every path answers: success, a thrown error, and running out of time.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { CodedError } from '../../lib/coded-error.ts';
import { errorFields } from './powertools.ts';

export type CustomResourceErrorCode = 'ECFNPROPS' | 'ECFNTIMEOUT' | 'ECFNRESPONSE';

/**
 * ECFNPROPS: a resource property the handler needs is missing or malformed (the template is not the one this
 * handler was built for); ECFNTIMEOUT: the work did not finish before the function's deadline; ECFNRESPONSE:
 * CloudFormation's response URL did not take the answer.
 */
export class CustomResourceError extends CodedError<CustomResourceErrorCode> {
  constructor(code: CustomResourceErrorCode, message: string, options: { cause?: unknown } = {}) {
    super('CustomResourceError', code, message, {
      ...options,
      retryable: code !== 'ECFNPROPS',
      failureClass: code === 'ECFNPROPS' ? 'config' : 'network',
    });
  }
}

export interface CustomResourceOutcome {
  /** Stays the same across updates: a new one would make CloudFormation delete the old resource. */
  readonly physicalResourceId: string;
  /** `Fn::GetAtt`-able values, strings only. */
  readonly data?: Readonly<Record<string, string>>;
}

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

export interface AnswerOptions {
  readonly logger: Logger;
  /** The physical id to answer a failed Create with (an Update or Delete answers with the event's). */
  readonly failedCreateId: string;
  /** The work; it must stop when `signal` aborts (at the deadline). */
  readonly work: (signal: AbortSignal) => Promise<CustomResourceOutcome>;
}

/** CloudFormation refuses a response body over 4096 bytes; the Reason gives way. */
export const MAX_RESPONSE_BYTES = 4096;
/** Time kept back from the work to send the answer (at most a third of what is left). */
const ANSWER_RESERVE_MS = 15_000;
const ATTEMPT_TIMEOUT_MS = 10_000;

/**
 * Runs `work` for the event and answers CloudFormation exactly once: SUCCESS with the outcome, or FAILED with
 * the error's message as the Reason, also when the work is still running at the deadline (it is then aborted).
 * Resolves with the answer sent; rejects only when the answer could not be delivered.
 */
export async function answerCustomResource(
  event: CloudFormationCustomResourceEvent,
  context: Context,
  options: AnswerOptions,
): Promise<CustomResourceResponse> {
  const { logger } = options;
  const url = responseUrl(event.ResponseURL);
  const remaining = context.getRemainingTimeInMillis();
  const budget = remaining - Math.min(ANSWER_RESERVE_MS, Math.floor(remaining / 3));
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new CustomResourceError('ECFNTIMEOUT', `${event.RequestType} did not finish within ${Math.round(budget / 1000)} s`);
      abort.abort(err);
      reject(err);
    }, budget);
  });
  const common = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let response: CustomResourceResponse;
  try {
    const outcome = await Promise.race([options.work(abort.signal), deadline]);
    response = {
      Status: 'SUCCESS',
      PhysicalResourceId: outcome.physicalResourceId,
      ...common,
      ...(outcome.data === undefined ? {} : { Data: outcome.data }),
    };
    logger.info('custom resource succeeded', { requestType: event.RequestType, physicalResourceId: outcome.physicalResourceId });
  } catch (err) {
    const id = event.RequestType === 'Create' ? options.failedCreateId : event.PhysicalResourceId;
    const reason = `${(err as { message?: unknown })?.message ?? String(err)} (log: ${context.logGroupName} ${context.logStreamName})`;
    response = fitReason({ Status: 'FAILED', PhysicalResourceId: id, ...common }, reason);
    logger.error('custom resource failed', { requestType: event.RequestType, ...errorFields(err) });
  } finally {
    clearTimeout(timer);
    // Whatever still runs after the answer must not write.
    abort.abort(new CustomResourceError('ECFNTIMEOUT', 'answered'));
  }
  await sendResponse(url, response, context, logger);
  return response;
}

/** A pre-signed S3 URL: https, or http on loopback (a test's stand-in). Never cleartext across a network. */
function responseUrl(value: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new CustomResourceError(
      'ECFNRESPONSE',
      'the event has no valid ResponseURL: this function answers only CloudFormation custom-resource requests',
    );
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new CustomResourceError('ECFNRESPONSE', `the ResponseURL must be https, got ${url.protocol}`);
  }
  return url;
}

/** Cuts the Reason, never the protocol fields, so the body fits CloudFormation's limit. */
export function fitReason(response: Omit<CustomResourceResponse, 'Reason'>, reason: string): CustomResourceResponse {
  const bytes = (r: CustomResourceResponse) => Buffer.byteLength(JSON.stringify(r));
  const full = { ...response, Reason: reason };
  if (bytes(full) <= MAX_RESPONSE_BYTES) return full;
  const marker = ' [...]';
  // Whole code points, and JSON escapes counted: the longest prefix that fits, by bisection.
  const chars = [...reason];
  const cut = (n: number) => ({ ...response, Reason: chars.slice(0, n).join('') + marker });
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(cut(mid)) <= MAX_RESPONSE_BYTES) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

/**
 * PUTs the answer, retrying a network failure or a 5xx while the function has time. No Content-Type: the URL
 * is pre-signed without one, as AWS's own cfn-response module sends it.
 */
async function sendResponse(url: URL, response: CustomResourceResponse, context: Context, logger: Logger): Promise<void> {
  const body = Buffer.from(JSON.stringify(response));
  let lastError: unknown;
  for (let attempt = 1, pause = 500; ; attempt++, pause *= 2) {
    const left = context.getRemainingTimeInMillis() - 500;
    if (left <= 0) break;
    try {
      const res = await fetch(url, { method: 'PUT', body, signal: AbortSignal.timeout(Math.min(ATTEMPT_TIMEOUT_MS, left)) });
      await res.body?.cancel();
      if (res.ok) {
        logger.info('answered CloudFormation', { status: response.Status, attempt });
        return;
      }
      lastError = new CustomResourceError('ECFNRESPONSE', `the ResponseURL answered HTTP ${res.status}`);
      // 4xx: the URL expired or was altered; sending again cannot help.
      if (res.status < 500) break;
    } catch (err) {
      lastError = err;
    }
    if (attempt >= 5 || context.getRemainingTimeInMillis() - 500 <= pause) break;
    await new Promise((r) => setTimeout(r, pause));
  }
  const err =
    lastError instanceof CustomResourceError
      ? lastError
      : new CustomResourceError(
          'ECFNRESPONSE',
          `could not deliver the answer to CloudFormation: ${errorFields(lastError)['errorMessage']}`,
          { cause: lastError },
        );
  logger.error('could not answer CloudFormation; the stack waits until the ServiceTimeout', errorFields(err));
  throw err;
}
