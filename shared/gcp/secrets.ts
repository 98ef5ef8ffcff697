import { type GoogleHttp, unlessNotFound } from './http.ts';

/**
 * Secret Manager metadata only: whether a secret exists and the state of a version
 * (https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/get).
 * There is deliberately no way here to read a value (`versions.access`): `wi-sentinel doctor` checks
 * that the secrets exist, never what they hold.
 */
export interface SecretMetadataPort {
  /** `name` is `projects/P/secrets/S`; false when it does not exist. */
  secretExists(name: string): Promise<boolean>;
  /** `name` is `projects/P/secrets/S/versions/V` (`latest` allowed): ENABLED, DISABLED, DESTROYED; undefined when absent. */
  versionState(name: string): Promise<string | undefined>;
}

export function createSecretMetadataPort({
  http,
  apiUrl = 'https://secretmanager.googleapis.com',
}: {
  http: GoogleHttp;
  apiUrl?: string;
}): SecretMetadataPort {
  const base = apiUrl.replace(/\/+$/, '');
  const read = (name: string, permission: string, what: string) =>
    unlessNotFound(
      http.request<{ state?: string }>({
        api: 'secretmanager',
        method: 'GET',
        url: `${base}/v1/${name}`,
        permission,
        what,
      }),
    );
  return {
    async secretExists(name) {
      return (await read(name, 'secretmanager.secrets.get', `secret ${name}`)) !== undefined;
    },
    async versionState(name) {
      const version = await read(name, 'secretmanager.versions.get', `secret version ${name}`);
      return version === undefined ? undefined : (version.state ?? 'STATE_UNSPECIFIED');
    },
  };
}
