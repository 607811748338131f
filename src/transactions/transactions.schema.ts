// A transaction line from an import: the workload's columns plus the optional
// fields real exports carry (document type, invoice, ship-to, end customer,
// unit price, list price, cost) that later rules such as ship-and-debit need.
import type { ImportSpec } from '../imports/import-spec.ts';
import { FieldChecker } from '../shared/fields.ts';
import { IDENTIFIER_LENGTH_MAX } from '../shared/limits.ts';

/** Document types a line may carry; credit notes and returns are negative lines either way. */
export const DOCUMENT_TYPES = [
  'invoice',
  'credit_note',
  'debit_note',
  'return',
  'sell_through',
  'point_of_sale',
] as const;

export const transactionImport: ImportSpec = {
  table: {
    table: 'transactions',
    key: 'id',
    columns: [
      { name: 'id', type: 'text' },
      { name: 'line_date', type: 'date' },
      { name: 'partner_id', type: 'text' },
      { name: 'sku', type: 'text' },
      { name: 'quantity', type: 'numeric' },
      { name: 'amount', type: 'numeric' },
      { name: 'currency', type: 'text' },
      { name: 'document_type', type: 'text' },
      { name: 'invoice_number', type: 'text' },
      { name: 'ship_to', type: 'text' },
      { name: 'end_customer', type: 'text' },
      { name: 'unit_price', type: 'numeric' },
      { name: 'list_price', type: 'numeric' },
      { name: 'cost', type: 'numeric' },
    ],
  },
  needs: { partners: true, products: true },
  check(values, references) {
    const f = new FieldChecker(values);
    const id = f.identifier('id', { required: true });
    const date = f.date('date');
    const partner = f.identifier('partner', { required: true });
    f.reference('partner', partner, references.partners, 'unknown_partner', 'partner');
    const sku = f.identifier('sku', { required: true });
    f.reference('sku', sku, references.products, 'unknown_product', 'product');
    const quantity = f.decimal('quantity', { required: true });
    const currency = f.currency('currency');
    const amount = f.money('amount', currency, { required: true });
    const documentType = f.text('document_type', { required: false, max: IDENTIFIER_LENGTH_MAX });
    if (documentType !== undefined && !(DOCUMENT_TYPES as readonly string[]).includes(documentType)) {
      f.problems.push({
        field: 'document_type',
        code: 'bad_document_type',
        message: `document_type "${documentType}" is not one of ${DOCUMENT_TYPES.join(', ')}`,
      });
    }
    const invoiceNumber = f.identifier('invoice_number', { required: false });
    const shipTo = f.identifier('ship_to', { required: false });
    const endCustomer = f.identifier('end_customer', { required: false });
    const unitPrice = f.decimal('unit_price', { required: false });
    const listPrice = f.decimal('list_price', { required: false });
    const cost = f.decimal('cost', { required: false });
    if (f.problems.length > 0) return { ok: false, problems: f.problems };
    return {
      ok: true,
      key: id!,
      columns: [
        id!,
        date!,
        partner!,
        sku!,
        quantity!,
        amount!,
        currency!,
        documentType ?? null,
        invoiceNumber ?? null,
        shipTo ?? null,
        endCustomer ?? null,
        unitPrice ?? null,
        listPrice ?? null,
        cost ?? null,
      ],
    };
  },
};
