/**
 * The runtime configuration the dispatcher and the poller read (the CLI's schema), assembled at deploy time from
 * the static part (mailboxes and defaults, shipped as an asset because there can be thousands) and the parts
 * only CloudFormation knows (the store, and the publish targets with their queue URLs).
 */
import { parseConfigText } from '../../lib/config/parse-config.ts';
import { CustomResourceError } from './custom-resource.ts';

/**
 * The largest static part accepted, checked at synthesis and again when read: about 100,000 mailboxes, far more
 * than one poller schedule can serve, and small enough for the writer's memory.
 */
export const MAX_STATIC_PART_BYTES = 32 * 1024 * 1024;

/** The deploy-time parts own these keys; the static part must not carry them. */
const DEPLOY_TIME_KEYS = ['store', 'publish'] as const;

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CustomResourceError('ECFNPROPS', `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CustomResourceError('ECFNPROPS', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The runtime config text: `{ store, publish, ...static }`, two-space indented with a final newline (operators
 * read and edit it in the console). Validated with the CLI's own parser, so a config the functions would refuse
 * is never written: a ConfigError lists every problem, each with its path.
 */
export function renderRuntimeConfig(parts: { staticText: string; store: string; publish: string; source: string }): string {
  const staticPart = parseObject(parts.staticText, 'the static part of the config (mailboxes and defaults)');
  for (const key of DEPLOY_TIME_KEYS) {
    if (key in staticPart) throw new CustomResourceError('ECFNPROPS', `the static part of the config must not set "${key}": it is filled in at deploy time`);
  }
  const text = `${JSON.stringify({ store: parseObject(parts.store, 'Store'), publish: parseObject(parts.publish, 'Publish'), ...staticPart }, null, 2)}\n`;
  parseConfigText(text, { baseDir: '/', source: parts.source });
  return text;
}
