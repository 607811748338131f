// Configuration from the environment, parsed and validated once at start-up.
// There are no secret defaults: without DATABASE_URL the embedded store is used.
import { resolve } from 'node:path';
import { z } from 'zod';
import { DomainError } from './shared/errors.ts';

const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  REBATES_DATA_DIR: z.string().min(1).optional(),
  PORT: z.coerce
    .number({ error: 'PORT must be a whole number from 0 to 65535 (0: any free port)' })
    .int('PORT must be a whole number from 0 to 65535 (0: any free port)')
    .min(0, 'PORT must be a whole number from 0 to 65535 (0: any free port)')
    .max(65_535, 'PORT must be a whole number from 0 to 65535 (0: any free port)')
    .default(3000),
  HOST: z.string().min(1).default('localhost'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where `rebates serve` listens. */
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse({
    DATABASE_URL: environment.DATABASE_URL || undefined,
    REBATES_DATA_DIR: environment.REBATES_DATA_DIR || undefined,
    PORT: environment.PORT || undefined,
    HOST: environment.HOST || undefined,
    LOG_LEVEL: environment.LOG_LEVEL || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DomainError(
      'invalid_configuration',
      `configuration: ${String(issue.path[0])}: ${issue.message}`,
    );
  }
  return {
    databaseUrl: parsed.data.DATABASE_URL,
    dataDir: resolve(parsed.data.REBATES_DATA_DIR ?? 'data'),
    port: parsed.data.PORT,
    host: parsed.data.HOST,
    logLevel: parsed.data.LOG_LEVEL,
  };
}
