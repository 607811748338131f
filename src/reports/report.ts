// A report is a title, typed columns and rows of text; it is written as CSV,
// XLSX or JSON by the same code whatever the report. Figures stay exact decimal
// text until a spreadsheet cell needs a number.
import { PDFDocument, StandardFonts } from 'pdf-lib';
import writeXlsxFile from 'write-excel-file/node';
import { csvField } from '../shared/csv-text.ts';
import { Decimal } from '../shared/decimal.ts';
import { pdfSafe } from '../shared/pdf-text.ts';

export type ColumnType = 'text' | 'money' | 'date' | 'integer';

export interface ReportColumn {
  key: string;
  header: string;
  type: ColumnType;
}

export interface Report {
  title: string;
  columns: ReportColumn[];
  rows: Record<string, string>[];
}

export function reportCsv(report: Report): string {
  const lines = report.rows.map((row) => report.columns.map((c) => csvField(row[c.key] ?? '')).join(','));
  return `${[report.columns.map((c) => c.key).join(','), ...lines].join('\n')}\n`;
}

export function reportJson(report: Report) {
  return { title: report.title, columns: report.columns, rows: report.rows };
}

/** Excel keeps numbers as binary doubles, exact to 15 significant digits: larger figures go in as text. */
const EXACT_DIGITS_MAX = 15;

function cell(value: string, type: ColumnType) {
  if (value === '') return null;
  if (type === 'money' || type === 'integer') {
    const d = Decimal.tryParse(value);
    const digits =
      d === undefined ? Number.POSITIVE_INFINITY : (d.units < 0n ? -d.units : d.units).toString().length;
    if (d !== undefined && digits <= EXACT_DIGITS_MAX)
      return { type: Number, value: Number(value), format: type === 'money' ? '#,##0.00' : '0' };
  }
  return { type: String, value };
}

export async function reportXlsx(report: Report): Promise<Buffer> {
  const header = report.columns.map((c) => ({ type: String, value: c.header, fontWeight: 'bold' as const }));
  const rows = report.rows.map((row) => report.columns.map((c) => cell(row[c.key] ?? '', c.type)));
  return writeXlsxFile([header, ...rows] as never, { sheet: report.title.slice(0, 31) }).toBuffer();
}

/**
 * The report as a PDF table on landscape A4 pages, figures right-aligned in
 * the report's own text (exact, never recomputed).
 */
export async function reportPdf(report: Report, subtitle: string): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(report.title);
  pdf.setSubject(subtitle);
  pdf.setCreator('rebates');
  pdf.setProducer('rebates');
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const safe = pdfSafe(regular);
  const size = 8;
  const [width, height] = [841.89, 595.28];
  const margin = 36;
  // Column widths from the longest text in each, scaled to the page.
  const natural = report.columns.map((c) =>
    Math.max(
      bold.widthOfTextAtSize(safe(c.header), size),
      ...report.rows.map((r) => regular.widthOfTextAtSize(safe(r[c.key] ?? ''), size)),
    ),
  );
  const scale = Math.min(
    1,
    (width - 2 * margin - 6 * report.columns.length) / natural.reduce((a, b) => a + b, 0),
  );
  const widths = natural.map((w) => w * scale + 6);
  let page = pdf.addPage([width, height]);
  let y = height - margin;
  const newPage = () => {
    page = pdf.addPage([width, height]);
    y = height - margin;
  };
  const row = (cells: string[], font: typeof regular) => {
    if (y < margin + 12) newPage();
    let x = margin;
    cells.map(safe).forEach((text, i) => {
      const column = report.columns[i]!;
      const fits =
        text.length > 0 && font.widthOfTextAtSize(text, size) > widths[i]! - 6 ? text.slice(0, 40) : text;
      const right = column.type === 'money' || column.type === 'integer';
      const tx = right ? x + widths[i]! - 6 - font.widthOfTextAtSize(fits, size) : x;
      page.drawText(fits, { x: tx, y, size, font });
      x += widths[i]!;
    });
    y -= 13;
  };
  page.drawText(safe(report.title), { x: margin, y, size: 14, font: bold });
  y -= 18;
  page.drawText(safe(subtitle), { x: margin, y, size: 9, font: regular });
  y -= 22;
  row(
    report.columns.map((c) => c.header),
    bold,
  );
  for (const r of report.rows)
    row(
      report.columns.map((c) => r[c.key] ?? ''),
      r.agreement === 'Total' ? bold : regular,
    );
  return pdf.save({ useObjectStreams: false });
}
