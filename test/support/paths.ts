import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/wi-sentinel.js', import.meta.url));

/**
 * The shared corpora (`../shared/fixtures` beside the repository; WI_SHARED_FIXTURES overrides):
 * an extra conformance suite, run whenever the folder exists.
 */
export function sharedFixturesDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.WI_SHARED_FIXTURES ?? fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}
