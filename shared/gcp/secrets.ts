import { type GoogleHttp, isNotFound } from './http.ts';

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
  return {
    async secretExists(name) {
      try {
        await http.request({
          api: 'secretmanager',
          method: 'GET',
          url: `${base}/v1/${name}`,
          permission: 'secretmanager.secrets.get',
          what: `secret ${name}`,
        });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async versionState(name) {
      try {
        const version = await http.request<{ state?: string }>({
          api: 'secretmanager',
          method: 'GET',
          url: `${base}/v1/${name}`,
          permission: 'secretmanager.versions.get',
          what: `secret version ${name}`,
        });
        return version.state ?? 'STATE_UNSPECIFIED';
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}
