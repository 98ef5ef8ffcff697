/**
 * A fake Secret Manager v1 API on 127.0.0.1 that holds secrets and the state of their versions, and
 * values too, so a test can show that nothing ever asks for one: it records every call, and a
 * `versions.access` call (which would return a value) is answered and recorded as such.
 *
 * Routes (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets):
 * - GET /v1/projects/P/secrets/S: the Secret's metadata, or 404.
 * - GET /v1/projects/P/secrets/S/versions/V (`latest` allowed): the version's metadata, or 404.
 * - GET /v1/projects/P/secrets/S/versions/V:access: the payload (kind `secretmanager.access`).
 */
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

export interface FakeSecret {
  /** Version states by number, oldest first (ENABLED, DISABLED, DESTROYED); `latest` is the last. */
  versions: string[];
  /** The value each version holds (tests assert it never leaves). */
  value?: string;
}

export interface FakeSecretManager extends FakeServer {
  setSecret(name: string, secret: FakeSecret | undefined): void;
}

export async function startFakeSecretManager(options: {
  token: string;
  secrets?: Record<string, FakeSecret>;
}): Promise<FakeSecretManager> {
  const secrets = new Map(Object.entries(options.secrets ?? {}));

  function route(request: { method: string; path: string }): FakeRoute {
    const access = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(request.path);
    if (request.method === 'GET' && access) {
      const secret = secrets.get(access[1] as string);
      return {
        kind: 'secretmanager.access',
        answer: () => ({
          status: 200,
          body: { payload: { data: Buffer.from(secret?.value ?? '').toString('base64') } },
        }),
      };
    }
    const version = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+)$/.exec(request.path);
    if (request.method === 'GET' && version) {
      const name = version[1] as string;
      const which = version[2] as string;
      return {
        kind: 'secretmanager.getVersion',
        answer: () => {
          const secret = secrets.get(name);
          const number = which === 'latest' ? secret?.versions.length : Number(which);
          const state = number === undefined ? undefined : secret?.versions[number - 1];
          return state === undefined
            ? { status: 404, body: googleError(404, `Secret Version [${name}/versions/${which}] not found.`) }
            : {
                status: 200,
                body: { name: `${name}/versions/${number}`, state, createTime: '2026-11-01T09:00:00Z' },
              };
        },
      };
    }
    const meta = /^\/v1\/(projects\/[^/]+\/secrets\/[^/:]+)$/.exec(request.path);
    if (request.method === 'GET' && meta) {
      const name = meta[1] as string;
      return {
        kind: 'secretmanager.getSecret',
        answer: () =>
          secrets.has(name)
            ? {
                status: 200,
                body: { name, replication: { automatic: {} }, createTime: '2026-11-01T09:00:00Z' },
              }
            : { status: 404, body: googleError(404, `Secret [${name}] not found.`) },
      };
    }
    return unknownMethod('secretmanager', request);
  }

  const server = await startGoogleFake('secretmanager', options, route);
  return Object.assign(server, {
    setSecret(name: string, secret: FakeSecret | undefined) {
      putOrDelete(secrets, name, secret);
    },
  });
}
