import type { OAuth2Client } from 'google-auth-library';
import { LookupError } from '../errors.ts';

/**
 * Google access tokens for every read of live state (GKE, IAM, Resource Manager, and the Kubernetes
 * API of GKE clusters, which accepts them). GOOGLE_OAUTH_ACCESS_TOKEN, when set, is used as it is
 * (as Terraform's provider does); otherwise Application Default Credentials through
 * google-auth-library, loaded on first use. Tokens are secrets: never logged, never in an error.
 */
export type TokenSource = () => Promise<string>;

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Refresh this long before expiry, so a token never expires in the middle of a sweep. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export function staticTokenSource(token: string): TokenSource {
  return async () => token;
}

export interface ExpiringToken {
  token: string;
  /** Epoch ms; absent: assume an hour, as Google's tokens last. */
  expiresAt?: number;
}

/** Caches what `fetchToken` returns until near its expiry; concurrent callers share one fetch. */
export function cachingTokenSource(
  fetchToken: () => Promise<ExpiringToken>,
  { now = Date.now, marginMs = REFRESH_MARGIN_MS }: { now?: () => number; marginMs?: number } = {},
): TokenSource {
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return () => {
    if (cached && now() < cached.refreshAt) return Promise.resolve(cached.token);
    pending ??= fetchToken()
      .then(({ token, expiresAt }) => {
        cached = { token, refreshAt: (expiresAt ?? now() + 3_600_000) - marginMs };
        return token;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** Application Default Credentials with the cloud-platform scope; google-auth-library loads on first use. */
export function applicationDefaultTokenSource(): TokenSource {
  return cachingTokenSource(async () => {
    const { GoogleAuth } = await import('google-auth-library');
    let client: Awaited<ReturnType<InstanceType<typeof GoogleAuth>['getClient']>>;
    let token: string | null | undefined;
    try {
      // Finding no credentials at all fails here, before any token is asked for.
      client = await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient();
      ({ token } = await client.getAccessToken());
    } catch (error) {
      // The library's message names the missing credentials; it carries no token.
      throw new LookupError(`no Google credentials: ${(error as Error).message}`, {
        api: 'oauth2',
        retryable: false,
        status: 401,
      });
    }
    if (!token) {
      throw new LookupError('no Google credentials: Application Default Credentials gave no token', {
        api: 'oauth2',
        retryable: false,
        status: 401,
      });
    }
    const expiry = (client.credentials as { expiry_date?: number | null }).expiry_date;
    return { token, ...(typeof expiry === 'number' ? { expiresAt: expiry } : {}) };
  });
}

export function tokenSourceFromConfig(config: {
  GOOGLE_OAUTH_ACCESS_TOKEN?: string | undefined;
}): TokenSource {
  return config.GOOGLE_OAUTH_ACCESS_TOKEN
    ? staticTokenSource(config.GOOGLE_OAUTH_ACCESS_TOKEN)
    : applicationDefaultTokenSource();
}

/**
 * An OAuth2Client for Google client libraries (the GKE client) that takes its tokens from `tokens`.
 * It asks `tokens` again every minute (which caches), so it never holds a token past its expiry; and
 * because each token carries an expiry, it never retries a 401/403 by itself: a 403 is reported.
 */
export async function oauthClientFor(tokens: TokenSource): Promise<OAuth2Client> {
  const { OAuth2Client } = await import('google-auth-library');
  const client = new OAuth2Client({ eagerRefreshThresholdMillis: 0 });
  client.refreshHandler = async () => ({ access_token: await tokens(), expiry_date: Date.now() + 60_000 });
  return client;
}
