// Agreement templates: the calendar, currency and rules of a kind of deal the
// commercial team writes often ("quarterly volume tiers"), kept once and copied
// into new agreements, which then only need an id, a partner and dates.
import { appendAudit } from '../audit/audit.service.ts';
import { HttpError } from '../server/errors.ts';
import type { Problem } from '../shared/errors.ts';
import type { Database } from '../store/database.ts';
import type { Author } from '../users/users.service.ts';
import { agreementToJson } from './agreements.repository.ts';
import { parseAgreement } from './agreements.schema.ts';

export interface TemplateInput {
  name: string;
  description?: string;
  calendar?: string;
  currency?: string;
  rules: unknown[];
}

/** The parts of an agreement a template fixes, as stored and as copied into new agreements. */
export interface TemplateTerms {
  calendar: string;
  currency: string;
  rules: unknown[];
}

export interface TemplateView extends TemplateTerms {
  id: string;
  name: string;
  description: string | null;
  createdBy: string;
  updatedBy: string;
  updatedAt: string;
}

/** Validates a template's terms as the rules of an agreement would be; problems name the template's fields. */
function validTerms(input: TemplateInput): TemplateTerms {
  const parsed = parseAgreement({
    id: 'template',
    partner: 'template',
    period: { start: '2000-01-01', end: '2000-12-31' },
    ...(input.calendar !== undefined ? { calendar: input.calendar } : {}),
    ...(input.currency !== undefined ? { currency: input.currency } : {}),
    rules: input.rules,
  });
  if (!parsed.ok) {
    const problems: Problem[] = parsed.problems.map((p) => ({
      ...p,
      ...(p.field !== undefined ? { field: p.field.replace(/^\./, '') } : {}),
    }));
    throw new HttpError(422, 'invalid_template', problems.map((p) => p.message).join('; '), problems);
  }
  const json = agreementToJson(parsed.value.agreement, 'draft');
  return { calendar: String(json.calendar), currency: String(json.currency), rules: json.rules as unknown[] };
}

function view(row: {
  id: string;
  name: string;
  description: string | null;
  terms: unknown;
  created_by: string;
  updated_by: string;
  updated_at: string;
}): TemplateView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ...(row.terms as TemplateTerms),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function readTemplate(db: Database, id: string): Promise<TemplateView | undefined> {
  const row = await db.selectFrom('agreement_templates').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? view(row) : undefined;
}

/** Writes a template (a new id) or replaces one (an id already stored), audited with before and after. */
export async function saveTemplate(
  db: Database,
  id: string,
  input: TemplateInput,
  author: Author,
  mode: 'create' | 'replace',
): Promise<TemplateView> {
  const terms = validTerms(input);
  return db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('agreement_templates')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (mode === 'create' && before)
      throw new HttpError(409, 'exists', `template ${id} exists; replace it with PUT`);
    if (mode === 'replace' && !before)
      throw new HttpError(404, 'not_found', `no template ${JSON.stringify(id)}`);
    const values = {
      name: input.name,
      description: input.description ?? null,
      terms: JSON.stringify(terms),
      updated_by: author.actor,
      updated_at: new Date().toISOString(),
    };
    if (before) await trx.updateTable('agreement_templates').set(values).where('id', '=', id).execute();
    else
      await trx
        .insertInto('agreement_templates')
        .values({ id, ...values, created_by: author.actor })
        .execute();
    const saved = (await readTemplate(trx, id))!;
    await appendAudit(trx, {
      actor: author.actor,
      action: before ? 'template.update' : 'template.create',
      entity: 'agreement_template',
      entityId: id,
      ...(before ? { before: view(before) } : {}),
      after: saved,
      ...(author.requestId ? { requestId: author.requestId } : {}),
    });
    return saved;
  });
}
