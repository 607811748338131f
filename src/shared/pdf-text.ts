// Text for the standard PDF fonts, which encode Windows-1252 (WinAnsi) only: a
// character outside it is written as its nearest stand-in, or `?`, so a partner
// name in another script never stops a document from being made.
import type { PDFFont } from 'pdf-lib';

const STAND_INS: Record<string, string> = { '\u2212': '-', '\u2192': '->', '\u00a0': ' ' };

export function pdfSafe(font: PDFFont): (text: string) => string {
  const known = new Map<string, string>();
  const safe = (c: string): string => {
    let out = known.get(c);
    if (out === undefined) {
      try {
        font.encodeText(c);
        out = c;
      } catch {
        out = STAND_INS[c] ?? '?';
      }
      known.set(c, out);
    }
    return out;
  };
  return (text) => [...text].map(safe).join('');
}
