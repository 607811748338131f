// The payout document of a posted settlement as a one-page PDF: who is paid,
// for which agreement, rule and period, how the amount was reached (earned,
// paid before, this payment), and the reference the ERP books it under.
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import { minorUnitsOf } from '../shared/currency.ts';
import { Decimal } from '../shared/decimal.ts';
import { formatMoney } from '../shared/format.ts';
import { pdfSafe } from '../shared/pdf-text.ts';
import type { SettlementView } from './settlement-workflow.ts';

const TITLES = {
  credit_memo: 'Credit memo',
  bank_transfer: 'Remittance advice (bank transfer)',
  invoice_offset: 'Invoice offset advice',
} as const;

export interface DocumentParties {
  issuer: string;
  beneficiaryName: string;
  agreementName: string;
}

/** The document's title: a clawback is a debit note whatever the payout method. */
export function documentTitle(s: SettlementView): string {
  return Decimal.parse(s.amount).sign() < 0
    ? `Debit note (clawback, ${s.clawbackPolicy === 'invoice' ? 'invoiced' : 'carried forward'})`
    : TITLES[s.payoutMethod];
}

export async function payoutDocumentPdf(s: SettlementView, parties: DocumentParties): Promise<Uint8Array> {
  if (s.documentNumber === null || s.postedAt === null) throw new Error(`settlement ${s.id} is not posted`);
  const pdf = await PDFDocument.create();
  const title = documentTitle(s);
  const money = (text: string) =>
    `${formatMoney(Decimal.parse(text), minorUnitsOf(s.currency))} ${s.currency}`;
  pdf.setTitle(`${title} ${s.documentNumber}`);
  pdf.setSubject(
    `${money(s.amount)} to ${s.beneficiary} for ${s.agreementId}/${s.ruleId} ${s.periodStart}..${s.periodEnd}`,
  );
  pdf.setAuthor(parties.issuer);
  pdf.setCreator('rebates');
  pdf.setProducer('rebates');
  // The posting time, so the same settlement always gives the same document.
  pdf.setCreationDate(new Date(s.postedAt));
  pdf.setModificationDate(new Date(s.postedAt));
  const page = pdf.addPage([595.28, 841.89]); // A4
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const safe = pdfSafe(regular);
  let y = 780;
  const line = (text: string, options: { size?: number; font?: typeof regular; gap?: number } = {}) => {
    page.drawText(safe(text), {
      x: 56,
      y,
      size: options.size ?? 11,
      font: options.font ?? regular,
      color: rgb(0, 0, 0),
    });
    y -= options.gap ?? 18;
  };
  line(title, { size: 20, font: bold, gap: 30 });
  line(`Number: ${s.documentNumber}`, { font: bold });
  line(`Date: ${s.postedAt.slice(0, 10)}`);
  line(`Issued by: ${parties.issuer}`, { gap: 28 });
  line('To', { font: bold });
  line(`${parties.beneficiaryName} (${s.beneficiary})`, { gap: 28 });
  line('For', { font: bold });
  line(`Agreement ${s.agreementId}: ${parties.agreementName}`);
  line(`Rule ${s.ruleId}, period ${s.periodStart} to ${s.periodEnd}`);
  line(
    `${s.kind === 'final' ? 'Final' : 'Interim'} settlement, calculated from the lines dated up to ${s.asOf}`,
    {
      gap: 28,
    },
  );
  line('Calculation', { font: bold });
  line(`Rebate earned for the period: ${money(s.earned)}`);
  line(`Paid before (earlier settlements): ${money(s.paidBefore)}`);
  line(`This ${Decimal.parse(s.amount).sign() < 0 ? 'clawback' : 'payment'}: ${money(s.amount)}`, {
    font: bold,
    gap: 28,
  });
  line(`Reference: ${s.documentNumber} / settlement ${s.id}`);
  line(`Prepared by ${s.preparedBy}, approved by ${s.approvedBy ?? '-'}, posted by ${s.postedBy ?? '-'}`);
  return pdf.save({ useObjectStreams: false });
}
