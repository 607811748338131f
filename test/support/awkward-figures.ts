// A generated workload's lines and agreements made awkward to sum: quantities with
// decimals (some with a trailing zero), amounts with three decimals, one or none,
// and a second currency with three decimals, for tests of the sums' exactness and scale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Gives every third agreement of the workload in `dir` the currency KWD, and
 * returns its lines rewritten: some partners' lines all have quantities with a
 * trailing zero, or amounts with one decimal or none, so that some positions'
 * totals keep those scales; every third line is in KWD.
 */
export function awkwardFigures(dir: string): { header: string; lines: string[] } {
  const agreementsFile = join(dir, 'agreements.json');
  const agreements = JSON.parse(readFileSync(agreementsFile, 'utf8')) as { currency?: string }[];
  agreements.forEach((a, i) => {
    if (i % 3 === 0) a.currency = 'KWD';
  });
  writeFileSync(agreementsFile, JSON.stringify(agreements));
  const [header, ...lines] = readFileSync(join(dir, 'transactions.csv'), 'utf8').trimEnd().split('\n');
  return {
    header: header!,
    lines: lines.map((line, i) => {
      const fields = line.split(',');
      const [partner, quantity, amount] = [fields[2]!, fields[4]!, fields[5]!];
      let q = quantity;
      let a = amount;
      if (partner.endsWith('1')) q = `${quantity}.0`;
      else if (i % 7 === 0) q = `${quantity}.25`;
      if (partner.endsWith('3')) a = amount.slice(0, -1);
      else if (partner.endsWith('7')) a = amount.slice(0, amount.indexOf('.'));
      else if (i % 3 === 0 && i % 2 === 0) a = `${amount}5`;
      return [...fields.slice(0, 4), q, a, i % 3 === 0 ? 'KWD' : 'USD'].join(',');
    }),
  };
}
