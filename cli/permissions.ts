import { parseArgs } from 'node:util';
import { CUSTOM_ROLES } from '../shared/gcp/permissions.ts';
import { type Io, UsageError } from './io.ts';

/**
 * Prints the permissions of one of wi-sentinel's custom roles (default `reader`), comma-separated as
 * `gcloud iam roles create|update --permissions=` takes them: the reads the code makes, which
 * infra/generated/roles.json holds and infra/iam.tf grants.
 */
export async function permissionsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { role: { type: 'string', default: 'reader' } },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`permissions takes no argument, got ${positionals.join(' ')}`);
  const roles: Record<string, readonly string[]> = CUSTOM_ROLES;
  const permissions = roles[values.role];
  if (permissions === undefined) {
    throw new UsageError(
      `no role named ${JSON.stringify(values.role)} (known: ${Object.keys(roles).join(', ')})`,
    );
  }
  io.stdout(`${permissions.join(',')}\n`);
  return 0;
}
