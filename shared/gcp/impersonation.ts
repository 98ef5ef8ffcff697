import { CLOUD_PLATFORM_SCOPE, cachingTokenSource, type TokenSource } from './auth.ts';
import type { GoogleHttp } from './http.ts';

/**
 * Tokens of another service account, made with the caller's own (IAM Service Account Credentials
 * `generateAccessToken`, https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken):
 * how `wi-sentinel doctor`, run by a person, asks `testIamPermissions` what each of wi-sentinel's
 * identities may read. The caller needs iam.serviceAccounts.getAccessToken on that account
 * (roles/iam.serviceAccountTokenCreator). Short-lived, cached until near expiry, never logged.
 */
export function impersonatedTokenSource(
  http: GoogleHttp,
  email: string,
  apiUrl = 'https://iamcredentials.googleapis.com',
): TokenSource {
  const base = apiUrl.replace(/\/+$/, '');
  return cachingTokenSource(async () => {
    const answer = await http.request<{ accessToken?: string; expireTime?: string }>({
      api: 'iamcredentials',
      method: 'POST',
      url: `${base}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`,
      body: { scope: [CLOUD_PLATFORM_SCOPE], lifetime: '600s' },
      permission: 'iam.serviceAccounts.getAccessToken',
      what: `a token of ${email}`,
    });
    const expiresAt = answer.expireTime ? Date.parse(answer.expireTime) : Number.NaN;
    return { token: answer.accessToken ?? '', ...(Number.isNaN(expiresAt) ? {} : { expiresAt }) };
  });
}
