/**
 * The file `cdk/app.ts` deploys: the CLI's mailbox configuration plus a `deployment` section for what only a
 * deployment has (schedule, alarm email, the shipped processors' filters).
 */
import { readFileSync } from 'node:fs';
import type { MailIngestConfig } from './deployment-config.ts';
import type { TargetFilter } from './constructs/processor.ts';
import { MailIngestValidationError, throwIfProblems } from './validation-error.ts';
import { validateDeploymentConfig } from './deployment-config.ts';
import { PROCESSOR_KINDS, type ProcessorKind } from '../lib/processors/registry.ts';

export const SHIPPED_PROCESSORS = PROCESSOR_KINDS;
export type ShippedProcessor = ProcessorKind;

export interface DeploymentSection {
  /** @default 5 */
  readonly scheduleMinutes?: number;
  /** @default - no alarm email */
  readonly alarmEmail?: string;
  /** Which shipped processors to deploy, with their filters. @default - all three with the example filters */
  readonly processors?: Partial<Record<ShippedProcessor, { readonly filter?: TargetFilter; readonly enabled?: boolean }>>;
}

export interface AppConfig {
  readonly config: MailIngestConfig;
  readonly deployment: DeploymentSection;
}

/** The deployment section's problems, as `deployment.<path>: message` lines. */
function deploymentProblems(deployment: unknown): string[] {
  const problems: string[] = [];
  if (typeof deployment !== 'object' || deployment === null || Array.isArray(deployment)) {
    problems.push('deployment: must be an object');
  } else {
    const d = deployment as Record<string, unknown>;
    for (const key of Object.keys(d)) {
      if (!['scheduleMinutes', 'alarmEmail', 'processors'].includes(key))
        problems.push(`deployment.${key}: unknown key (allowed: scheduleMinutes, alarmEmail, processors)`);
    }
    if (d['scheduleMinutes'] !== undefined && typeof d['scheduleMinutes'] !== 'number')
      problems.push(`deployment.scheduleMinutes: must be a number, got ${JSON.stringify(d['scheduleMinutes'])}`);
    if (d['alarmEmail'] !== undefined && typeof d['alarmEmail'] !== 'string')
      problems.push(`deployment.alarmEmail: must be a string, got ${JSON.stringify(d['alarmEmail'])}`);
    const processors = d['processors'];
    if (processors !== undefined) {
      if (typeof processors !== 'object' || processors === null || Array.isArray(processors))
        problems.push('deployment.processors: must be an object');
      else {
        for (const name of Object.keys(processors)) {
          if (!(SHIPPED_PROCESSORS as readonly string[]).includes(name))
            problems.push(`deployment.processors.${name}: unknown processor (shipped: ${SHIPPED_PROCESSORS.join(', ')})`);
        }
      }
    }
  }
  return problems;
}

/** Splits a parsed file into the mailbox config and the deployment section, checking the section's shape. */
export function splitAppConfig(json: unknown, source: string): AppConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MailIngestValidationError(source, ['must be a JSON object with "mailboxes"']);
  }
  const { deployment = {}, ...config } = json as Record<string, unknown>;
  throwIfProblems(source, deploymentProblems(deployment));
  return { config: config as unknown as MailIngestConfig, deployment: deployment as DeploymentSection };
}

/**
 * Every problem of a deployment file at once: its deployment section and its mailboxes together, so one edit
 * fixes them all (the construct checks the same again, for callers that build it from code).
 */
export function appConfigProblems(file: { readonly config: unknown; readonly deployment?: unknown }): string[] {
  return [...deploymentProblems(file.deployment ?? {}), ...validateDeploymentConfig(file.config)];
}

/** Reads a deployment file without judging its sections (appConfigProblems does). */
export function loadAppConfig(path: string): AppConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    // Never the parser's excerpt of the text: it could quote a literal password next to the syntax error.
    const what = err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${(err as { code?: string }).code ?? 'error'})`;
    throw new MailIngestValidationError(path, [`the deployment config ${what}`], { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MailIngestValidationError(path, ['must be a JSON object with "mailboxes"']);
  }
  const { deployment = {}, ...config } = json as Record<string, unknown>;
  return { config: config as unknown as MailIngestConfig, deployment: deployment as DeploymentSection };
}
