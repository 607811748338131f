// A partner row from an import: id, name, buying group, region, free attributes.
import type { ImportSpec } from '../imports/import-spec.ts';
import { FieldChecker } from '../shared/fields.ts';

export const partnerImport: ImportSpec = {
  table: {
    table: 'partners',
    key: 'id',
    columns: [
      { name: 'id', type: 'text' },
      { name: 'name', type: 'text' },
      { name: 'buying_group', type: 'text' },
      { name: 'region', type: 'text' },
      { name: 'attributes', type: 'jsonb' },
    ],
  },
  needs: { partners: false, products: false },
  check(values) {
    const f = new FieldChecker(values);
    const id = f.identifier('id', { required: true });
    const name = f.text('name', { required: true });
    const group = f.identifier('group', { required: false });
    const region = f.text('region', { required: false });
    const attributes = f.attributes();
    if (f.problems.length > 0) return { ok: false, problems: f.problems };
    return {
      ok: true,
      key: id!,
      columns: [id!, name!, group ?? null, region ?? null, JSON.stringify(attributes)],
    };
  },
};
