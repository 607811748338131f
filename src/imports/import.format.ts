// The import summary as a user reads it: every row accounted for, the first
// problems with file, line and field, and where the full lists were written.
import { describeProblem } from '../shared/errors.ts';
import type { ImportSummary } from './import.service.ts';

export function printImportSummary(
  summary: ImportSummary,
  write: (text: string) => void = (t) => process.stdout.write(t),
) {
  const parts = [
    `${summary.imported} imported`,
    `${summary.duplicates} duplicate${summary.duplicates === 1 ? '' : 's'} (already stored, nothing added)`,
    `${summary.rejected} rejected`,
  ];
  if (summary.withheld > 0) parts.push(`${summary.withheld} valid but withheld`);
  write(`${summary.kind} from ${summary.file}: read ${summary.read} = ${parts.join(' + ')}\n`);
  for (const p of summary.problems) write(`  ${describeProblem(p)}\n`);
  if (summary.problemCount > summary.problems.length) {
    write(`  … and ${summary.problemCount - summary.problems.length} more problems\n`);
  }
  if (summary.errorsFile) write(`  every problem is listed in ${summary.errorsFile}\n`);
  if (summary.rejectsFile) write(`  rejected rows, unchanged, are in ${summary.rejectsFile}\n`);
  if (summary.outcome === 'nothing_imported') {
    write(
      '  nothing was imported because the file has bad rows: fix them, or use --skip-invalid to import the good rows\n',
    );
  } else if (summary.imported === 0 && summary.rejected === 0 && summary.duplicates > 0) {
    write('  the file was imported before: nothing new\n');
  }
}
