/**
 * The runtime configuration a deployment writes for the dispatcher and the poller (the CLI's schema), assembled
 * at deploy time from the static part (mailboxes and defaults, shipped as an asset because there can be
 * thousands) and the parts only CloudFormation knows (the store, and the publish targets with their queue URLs).
 */
import { ConfigError } from './errors.ts';
import { parseConfigText } from './parse-config.ts';

/**
 * The largest static part accepted, checked at synthesis and again when read: about 100,000 mailboxes, far more
 * than one poller schedule can serve, and small enough for the writer's memory.
 */
export const MAX_STATIC_PART_BYTES = 32 * 1024 * 1024;

/** The deploy-time parts own these keys; the static part must not carry them. */
const DEPLOY_TIME_KEYS = ['store', 'publish'] as const;

function parseObject(text: string, path: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path, message: `is not valid JSON: ${(err as Error).message}` }], { cause: err, source });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError([{ path, message: 'must be a JSON object' }], { source });
  return value as Record<string, unknown>;
}

export interface DeployedConfigParts {
  /** The mailboxes and defaults, as JSON text. */
  readonly staticText: string;
  /** `store` and `publish`, as JSON text. */
  readonly store: string;
  readonly publish: string;
  /** Where the config goes, named in errors. */
  readonly source: string;
}

/**
 * The runtime config text: `{ store, publish, ...static }`, two-space indented with a final newline (operators
 * read and edit it in the console). Validated with the CLI's own parser, so a config the functions would refuse
 * is never written: a ConfigError lists every problem, each with its path.
 */
export function assembleDeployedConfig(parts: DeployedConfigParts): string {
  const staticPart = parseObject(parts.staticText, '(static part)', parts.source);
  const clashes = DEPLOY_TIME_KEYS.filter((key) => key in staticPart);
  if (clashes.length > 0) {
    throw new ConfigError(
      clashes.map((key) => ({
        path: key,
        message: 'is filled in at deploy time; the static part (mailboxes and defaults) must not set it',
      })),
      { source: parts.source },
    );
  }
  const store = parseObject(parts.store, 'store', parts.source);
  const publish = parseObject(parts.publish, 'publish', parts.source);
  const text = `${JSON.stringify({ store, publish, ...staticPart }, null, 2)}\n`;
  parseConfigText(text, { baseDir: '/', source: parts.source });
  return text;
}
