// A spreadsheet upload (.xlsx) becomes the CSV the importer reads: the first
// sheet, row by row. Numbers keep the text the file stores (never passed through
// a binary float here), so a figure with stray digits is reported by the import's
// own checks, not rounded; date cells are written YYYY-MM-DD.
import { writeFile } from 'node:fs/promises';
import { readSheet } from 'read-excel-file/node';
import { csvField } from '../shared/csv-text.ts';
import { DomainError } from '../shared/errors.ts';

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

export async function xlsxToCsvFile(xlsxPath: string, csvPath: string, fileName: string): Promise<void> {
  let rows: unknown[][];
  try {
    rows = (await readSheet<string>(xlsxPath, { parseNumber: (text) => text })) as unknown[][];
  } catch (error) {
    throw new DomainError(
      'invalid_spreadsheet',
      `${fileName} is not a readable .xlsx spreadsheet: ${(error as Error).message}`,
    );
  }
  await writeFile(csvPath, `${rows.map((r) => r.map((c) => csvField(cellText(c))).join(',')).join('\n')}\n`);
}
