// Row types of the store's tables, as Kysely sees them. numeric and date
// columns are read as text (see database.ts), so money never becomes a float.
import type { Generated, GeneratedAlways } from 'kysely';

export interface ImportsTable {
  id: Generated<string>;
  kind: 'partners' | 'products' | 'transactions' | 'agreements';
  file_name: string;
  mapping_name: string | null;
  started_at: Generated<string>;
  finished_at: string | null;
  rows_read: Generated<number>;
  rows_imported: Generated<number>;
  rows_duplicate: Generated<number>;
  rows_rejected: Generated<number>;
  outcome: 'imported' | 'partially_imported' | 'nothing_imported';
}

export interface PartnersTable {
  id: string;
  name: string;
  buying_group: string | null;
  region: string | null;
  attributes: Record<string, string>;
  import_id: string | null;
}

export interface ProductsTable {
  sku: string;
  name: string;
  category: string;
  list_price: string | null;
  attributes: Record<string, string>;
  import_id: string | null;
}

export interface TransactionsTable {
  id: string;
  line_date: string;
  partner_id: string;
  sku: string;
  quantity: string;
  amount: string;
  currency: string;
  document_type: string | null;
  invoice_number: string | null;
  ship_to: string | null;
  end_customer: string | null;
  unit_price: string | null;
  list_price: string | null;
  cost: string | null;
  import_id: string;
}

export interface AgreementsTable {
  id: string;
  name: string;
  partner_id: string | null;
  buying_group: string | null;
  beneficiary_id: string | null;
  currency: string;
  start_date: string;
  end_date: string;
  calendar: 'none' | 'monthly' | 'quarterly' | 'yearly';
  accrual_basis: Generated<'earned' | 'forecast'>;
  status: string;
  import_id: string | null;
  /** The actor who wrote it (null for agreements stored before authors were kept). */
  created_by: Generated<string | null>;
}

export interface AgreementRulesTable {
  agreement_id: string;
  rule_id: string;
  position: number;
  type: string;
  basis: string;
  method: string;
  payout: string;
  scope: unknown;
  mix: unknown | null;
  growth_apply: string | null;
  baseline_start: string | null;
  baseline_end: string | null;
  minimum_volume: string | null;
  minimum_payout: string | null;
  cap: string | null;
}

export interface RuleTiersTable {
  agreement_id: string;
  rule_id: string;
  position: number;
  from_value: string;
  rate: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: Generated<string>;
}

export interface AccrualTotalsTable {
  agreement_id: string;
  rule_id: string;
  role: 'period' | 'baseline';
  window_start: string;
  window_end: string;
  line_count: string;
  quantity: string;
  amount: string;
  mix_amount: string;
  mix_distinct_products: number;
  updated_at: Generated<string>;
  /** Bigint as text. */
  window_id: GeneratedAlways<string>;
}

export type UserRole = 'admin' | 'commercial' | 'sales' | 'finance' | 'auditor' | 'partner';

export interface UsersTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  role: UserRole;
  partner_id: string | null;
  buying_group: string | null;
  password_hash: string;
  created_at: Generated<string>;
  disabled_at: string | null;
}

export interface CredentialsTable {
  token_hash: string;
  user_id: string;
  kind: 'session' | 'api_token';
  name: string | null;
  created_at: Generated<string>;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface AuditLogTable {
  seq: Generated<string>;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: string | null;
  after: string | null;
  comment: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  method: string;
  path: string;
  body_hash: string;
  /** Null while the first request is still being answered. */
  status: number | null;
  response: string | null;
  created_at: Generated<string>;
}

export interface AgreementStatusChangesTable {
  id: Generated<string>;
  agreement_id: string;
  from_status: string;
  to_status: string;
  changed_by: string;
  changed_at: Generated<string>;
  comment: string | null;
}

export interface AgreementVersionsTable {
  agreement_id: string;
  version: number;
  effective_from: string;
  status: 'submitted' | 'approved' | 'rejected' | 'cancelled';
  /** The version's whole terms in the agreements' JSON format. */
  terms: unknown;
  created_by: string;
  created_at: Generated<string>;
  comment: string | null;
  decided_by: string | null;
  decided_at: string | null;
  decision_comment: string | null;
}

export interface AgreementSignOffsTable {
  agreement_id: string;
  version: number;
  signed_by: string;
  signed_at: Generated<string>;
  comment: string | null;
}

export interface AgreementTemplatesTable {
  id: string;
  name: string;
  description: string | null;
  terms: unknown;
  created_by: string;
  created_at: Generated<string>;
  updated_by: string;
  updated_at: Generated<string>;
}

export interface CalculationInputsTable {
  singleton: boolean;
  revision: string;
}

export interface LedgerAccountsTable {
  purpose: 'rebate_expense' | 'accrued_rebates' | 'partner_payable' | 'accounts_receivable';
  account: string;
  name: string;
}

export interface AccrualPostingsTable {
  id: Generated<string>;
  period: string;
  as_of: string;
  posted_by: string;
  posted_at: Generated<string>;
  entries: number;
  request_id: string | null;
}

export interface JournalEntriesTable {
  id: Generated<string>;
  source: 'accrual' | 'settlement';
  posting_id: string | null;
  settlement_id: Generated<string | null>;
  entry_date: string;
  agreement_id: string;
  rule_id: string;
  period_start: string;
  period_end: string;
  currency: string;
  amount: string;
  memo: string;
  created_at: Generated<string>;
}

export interface JournalLinesTable {
  entry_id: string;
  line_no: number;
  account: string;
  debit: string;
  credit: string;
}

export interface SettlementsTable {
  id: Generated<string>;
  agreement_id: string;
  rule_id: string;
  period_start: string;
  period_end: string;
  kind: 'interim' | 'final';
  status: 'draft' | 'approved' | 'posted' | 'cancelled';
  currency: string;
  as_of: string;
  earned: string;
  paid_before: string;
  amount: string;
  payout_method: 'credit_memo' | 'bank_transfer' | 'invoice_offset';
  clawback_policy: 'carry_forward' | 'invoice' | null;
  beneficiary_id: string;
  prepared_by: string;
  prepared_at: Generated<string>;
  approved_by: Generated<string | null>;
  approved_at: Generated<string | null>;
  posted_by: Generated<string | null>;
  posted_at: Generated<string | null>;
  document_number: Generated<string | null>;
  journal_entry_id: Generated<string | null>;
  comment: string | null;
  claim_id: Generated<string | null>;
}

export interface ClaimSettingsTable {
  singleton: boolean;
  tolerance_absolute: string;
  tolerance_percent: string;
}

export interface ClaimsTable {
  id: Generated<string>;
  source: 'claim' | 'deduction';
  agreement_id: string | null;
  rule_id: string | null;
  period_start: string | null;
  period_end: string | null;
  partner_id: string;
  reference: string;
  invoice_number: string | null;
  currency: string;
  claimed: string;
  submitted_by: string;
  submitted_at: Generated<string>;
  status: 'approved' | 'partially_approved' | 'disputed' | 'rejected';
  due: string;
  tolerance: string;
  approved: string;
  reason_code: string;
  resolution: Generated<string | null>;
  resolved_by: Generated<string | null>;
  resolved_at: Generated<string | null>;
}

export interface ClaimCommentsTable {
  id: Generated<string>;
  claim_id: string;
  author: string;
  at: Generated<string>;
  text: string;
}

export interface ClaimAttachmentsTable {
  id: Generated<string>;
  claim_id: string;
  file_name: string;
  content_type: string;
  size: number;
  sha256: string;
  content: Uint8Array;
  uploaded_by: string;
  uploaded_at: Generated<string>;
}

export interface StoreSchema {
  claim_attachments: ClaimAttachmentsTable;
  claim_settings: ClaimSettingsTable;
  claims: ClaimsTable;
  claim_comments: ClaimCommentsTable;
  settlements: SettlementsTable;
  ledger_accounts: LedgerAccountsTable;
  accrual_postings: AccrualPostingsTable;
  journal_entries: JournalEntriesTable;
  journal_lines: JournalLinesTable;
  agreement_versions: AgreementVersionsTable;
  agreement_sign_offs: AgreementSignOffsTable;
  agreement_templates: AgreementTemplatesTable;
  calculation_inputs: CalculationInputsTable;
  agreement_status_changes: AgreementStatusChangesTable;
  idempotency_keys: IdempotencyKeysTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  credentials: CredentialsTable;
  accrual_totals: AccrualTotalsTable;
  imports: ImportsTable;
  partners: PartnersTable;
  products: ProductsTable;
  transactions: TransactionsTable;
  agreements: AgreementsTable;
  agreement_rules: AgreementRulesTable;
  rule_tiers: RuleTiersTable;
  schema_migrations: SchemaMigrationsTable;
}
