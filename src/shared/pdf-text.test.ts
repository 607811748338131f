// Proves text outside the standard fonts' encoding is replaced, not fatal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { pdfSafe } from './pdf-text.ts';

test('WinAnsi text is kept; a minus sign becomes a hyphen; other scripts become ?', async () => {
  const pdf = await PDFDocument.create();
  const safe = pdfSafe(await pdf.embedFont(StandardFonts.Helvetica));
  assert.equal(safe('Café Müller – 1,080.00 €'), 'Café Müller – 1,080.00 €');
  assert.equal(safe('earned − paid'), 'earned - paid');
  assert.equal(safe('東京商事'), '????');
});
