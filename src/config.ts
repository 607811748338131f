// Configuration from the environment, parsed and validated once at start-up.
// There are no secret defaults: without DATABASE_URL the embedded store is used.
import { resolve } from 'node:path';
import { z } from 'zod';

const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  REBATES_DATA_DIR: z.string().min(1).optional(),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse({
    DATABASE_URL: environment.DATABASE_URL || undefined,
    REBATES_DATA_DIR: environment.REBATES_DATA_DIR || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`configuration: ${String(issue.path[0])}: ${issue.message}`);
  }
  return {
    databaseUrl: parsed.data.DATABASE_URL,
    dataDir: resolve(parsed.data.REBATES_DATA_DIR ?? 'data'),
  };
}
