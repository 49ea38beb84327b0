/**
 * IAM resources for "exactly these secrets". Secrets Manager appends a random 6-character suffix to every secret
 * ARN, so a secret known by name is matched with `NAME-??????` (never `NAME*`, which would also match
 * `NAME-other`). An ARN is taken as given; a partial ARN (without the suffix) gets the same `-??????`.
 */
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const COMPLETE_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** Whether `secretId` is an ARN rather than a name. */
export function isSecretArn(secretId: string): boolean {
  return secretId.startsWith('arn:');
}

/**
 * The IAM resource ARNs that match exactly the secret `secretId`. A full ARN yields itself and, because a name
 * can itself end in `-xxxxxx`, also the partial-ARN form; a name yields the ARN pattern in this stack's
 * account and region.
 */
export function secretResourceArns(scope: IConstruct, secretId: string): string[] {
  if (isSecretArn(secretId)) {
    const name = Arn.split(secretId, ArnFormat.COLON_RESOURCE_NAME).resourceName ?? '';
    return COMPLETE_ARN_SUFFIX.test(name) ? [secretId, `${secretId}-??????`] : [`${secretId}-??????`];
  }
  return [
    Stack.of(scope).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretId}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  ];
}

/** Problems with a secret id, as messages (an empty list when it is usable). */
export function secretIdProblems(secretId: string): string[] {
  if (Token.isUnresolved(secretId)) return [];
  if (isSecretArn(secretId)) {
    const parts = secretId.split(':');
    if (parts.length < 7 || parts[2] !== 'secretsmanager' || parts[5] !== 'secret' || parts[6] === '') {
      return [`"${secretId}" is not a Secrets Manager secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME)`];
    }
    return [];
  }
  if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(secretId)) {
    return [`"${secretId}" is not a valid secret name (letters, digits and /_+=.@- only)`];
  }
  return [];
}
