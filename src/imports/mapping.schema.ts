// The JSON shape of a column mapping file (`--mapping FILE`), checked with zod.
// mapping.ts turns the parsed input into a normalized Mapping and compiles it
// against a file's header; this file only says what a valid document looks like.
import { z } from 'zod';
import { IMPORT_KINDS } from './source.types.ts';

/** Size of a mapping file accepted; real ones are a few kilobytes. */
export const MAPPING_FILE_BYTES_MAX = 1024 * 1024;
/** Files joined into one import. */
export const JOINS_MAX = 10;
/** Strings a mapping may declare as null markers. */
export const NULL_VALUES_MAX = 20;
/** Longest column reference, template, expression or constant in a mapping. */
export const MAPPING_TEXT_LENGTH_MAX = 1_000;
/** Attributes one mapping may define (PRODUCT_ATTRIBUTES_MAX bounds what is stored). */
export const MAPPING_ATTRIBUTES_MAX = 50;
/** Preamble lines a mapping may skip before the header. */
export const SKIP_LINES_MAX = 1_000;
/** Decimal places an expression may round to (Decimal's input scale limit). */
export const ROUND_PLACES_MAX = 12;

const text = z.string().max(MAPPING_TEXT_LENGTH_MAX, `must be at most ${MAPPING_TEXT_LENGTH_MAX} characters`);
const nonEmptyText = text.min(1, 'must not be empty');
const singleCharacter = z
  .string()
  .length(1, 'must be exactly one character')
  .refine((c) => c !== '\n' && c !== '\r', 'must not be a line break');
const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be letters, digits or _ and start with a letter or _')
  .max(100, 'must be at most 100 characters');

const csvOptionsShape = {
  delimiter: singleCharacter.optional(),
  quote: singleCharacter.optional(),
  nullValues: z.array(text).max(NULL_VALUES_MAX, `must list at most ${NULL_VALUES_MAX} values`).optional(),
  relaxQuotes: z.boolean().optional(),
  encoding: z.enum(['utf-8', 'windows-1252']).optional(),
  skipLines: z.number().int().min(0).max(SKIP_LINES_MAX).optional(),
  decimalSeparator: z.enum(['.', ',']).optional(),
  groupSeparator: z.enum(['', ',', '.', ' ', "'"]).optional(),
};

const extraFields = z.enum(['error', 'ignore']);

/** How the main file is read. */
export const csvOptionsSchema = z.strictObject({ ...csvOptionsShape, extraFields: extraFields.optional() });

/** How a joined file is read; omitted settings come from the main file's `csv`. */
export const joinCsvOptionsSchema = z.strictObject(csvOptionsShape);

export const joinSchema = z.strictObject({
  name,
  file: nonEmptyText,
  key: nonEmptyText,
  on: nonEmptyText,
  extraFields: extraFields.optional(),
  csv: joinCsvOptionsSchema.optional(),
});

const fieldObjectSchema = z
  .strictObject({
    column: nonEmptyText.optional(),
    format: nonEmptyText.optional(),
    fromEnd: z.boolean().optional(),
    value: text.optional(),
    template: nonEmptyText.optional(),
    expression: nonEmptyText.optional(),
    round: z.number().int().min(0).max(ROUND_PLACES_MAX).optional(),
  })
  .superRefine((spec, ctx) => {
    const sources = (['column', 'value', 'template', 'expression'] as const).filter(
      (k) => spec[k] !== undefined,
    );
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          sources.length === 0
            ? 'needs one of "column", "value", "template" or "expression"'
            : `has ${sources.map((s) => `"${s}"`).join(' and ')}; give exactly one`,
      });
      return;
    }
    if (spec.column === undefined) {
      for (const k of ['format', 'fromEnd'] as const) {
        if (spec[k] !== undefined)
          ctx.addIssue({ code: 'custom', path: [k], message: 'is only allowed with "column"' });
      }
    }
    if (spec.expression === undefined && spec.round !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['round'], message: 'is only allowed with "expression"' });
    }
  });

/**
 * A canonical field's source: a column name (`"alias.column"` for a joined file's
 * column), or an object with exactly one of column, value, template, expression.
 */
export const fieldSpecSchema = z.union([nonEmptyText, fieldObjectSchema], {
  error: 'must be a column name or an object with "column", "value", "template" or "expression"',
});

export const mappingSchema = z.strictObject({
  $schema: z.string().optional(),
  description: text.optional(),
  kind: z.enum(IMPORT_KINDS as [string, ...string[]], { error: `must be one of ${IMPORT_KINDS.join(', ')}` }),
  csv: csvOptionsSchema.optional(),
  joins: z.array(joinSchema).max(JOINS_MAX, `must list at most ${JOINS_MAX} joins`).optional(),
  fields: z.record(z.string(), fieldSpecSchema),
  attributes: z
    .record(z.string(), fieldSpecSchema)
    .refine(
      (a) => Object.keys(a).length <= MAPPING_ATTRIBUTES_MAX,
      `must define at most ${MAPPING_ATTRIBUTES_MAX}`,
    )
    .optional(),
});

export type MappingInput = z.input<typeof mappingSchema>;
export type FieldSpecInput = z.input<typeof fieldSpecSchema>;
export type CsvOptionsInput = z.input<typeof csvOptionsSchema>;
