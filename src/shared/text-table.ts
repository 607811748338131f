// A plain-text table for the terminal: columns padded to their widest cell,
// numbers right-aligned, a dashed rule under the header.

export function formatTextTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string {
  const all = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...all.map((r) => r[j]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, j) => (rightAligned.has(j) ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
