export { ConfigError, SecretError } from './errors.ts';
export type { ConfigIssue } from './errors.ts';
export { formatPath, loadConfig, parseConfig, parseConfigText } from './parse-config.ts';
export type { ParseConfigOptions } from './parse-config.ts';
export { clearSecretCache, createAwsSecretsManager, resolveSecret } from './secrets.ts';
export type { ResolveSecretDeps, SecretsManagerLike } from './secrets.ts';
export { configJsonSchema } from './json-schema.ts';
export { configSchema } from './schema.ts';
export { DEFAULT_CONCURRENCY, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_SESSION_SECONDS } from './types.ts';
export type {
  Config,
  FsStoreConfig,
  MailboxConfig,
  MailboxDefaults,
  PublishConfig,
  S3StoreConfig,
  SecretRef,
  SessionLimits,
  StoreConfig,
  LocalProcessorConfig,
  TargetConfig,
  TargetFilter,
  OAuth2Config,
  OAuth2Flow,
  OAuth2Provider,
  TokenRef,
} from './types.ts';
