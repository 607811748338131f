// A product row from an import: sku, name, category, list price, free attributes (brand, supplier, …).
import type { ImportSpec } from '../imports/import-spec.ts';
import { Decimal } from '../shared/decimal.ts';
import { FieldChecker } from '../shared/fields.ts';

export const productImport: ImportSpec = {
  table: {
    table: 'products',
    key: 'sku',
    columns: [
      { name: 'sku', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'category', type: 'text' },
      { name: 'list_price', type: 'numeric' },
      { name: 'attributes', type: 'jsonb' },
    ],
  },
  needs: { partners: false, products: false },
  check(values) {
    const f = new FieldChecker(values);
    const sku = f.identifier('sku', { required: true });
    const name = f.text('name', { required: true });
    const category = f.identifier('category', { required: true });
    const listPrice = f.decimal('list_price', { required: false, minimum: Decimal.ZERO });
    const attributes = f.attributes();
    if (f.problems.length > 0) return { ok: false, problems: f.problems };
    return {
      ok: true,
      key: sku!,
      columns: [sku!, name!, category!, listPrice ?? null, JSON.stringify(attributes)],
    };
  },
};
