/**
 * A fake IAM Service Account Credentials API on 127.0.0.1: `generateAccessToken` for the identities
 * the caller may act as, 403 for the others, recording every call (never a token). The tokens it
 * mints name their identity, so the other fakes can tell who calls (`acceptToken: impersonatedIdentity`).
 *
 *   const credentials = await startFakeIamCredentials({ token, allowed: ['sa@p.iam.gserviceaccount.com'] });
 *
 * Route (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken):
 * POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken `{ scope, lifetime }`.
 */
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

const PREFIX = 'ya29.impersonated-for-tests-only.';

/** The identity an impersonated token of this fake stands for; undefined for any other token. */
export function impersonatedIdentity(token: string): string | undefined {
  return token.startsWith(PREFIX) ? token.slice(PREFIX.length) : undefined;
}

export interface FakeIamCredentials extends FakeServer {
  allow(identity: string, allowed: boolean): void;
}

export async function startFakeIamCredentials(options: {
  token: string;
  allowed?: string[];
}): Promise<FakeIamCredentials> {
  const allowed = new Set(options.allowed ?? []);

  function route(request: { method: string; path: string }): FakeRoute {
    const match = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(request.path);
    if (request.method === 'POST' && match) {
      const identity = match[1] as string;
      return {
        kind: 'iamcredentials.generateAccessToken',
        answer: () =>
          allowed.has(identity)
            ? {
                status: 200,
                body: {
                  accessToken: `${PREFIX}${identity}`,
                  expireTime: new Date(Date.now() + 600_000).toISOString(),
                },
              }
            : {
                status: 403,
                body: googleError(
                  403,
                  `Permission 'iam.serviceAccounts.getAccessToken' denied on resource ${identity}`,
                ),
              },
      };
    }
    return unknownMethod('iamcredentials', request);
  }

  const server = await startGoogleFake('iamcredentials', options, route);
  return Object.assign(server, {
    allow(identity: string, yes: boolean) {
      if (yes) allowed.add(identity);
      else allowed.delete(identity);
    },
  });
}
