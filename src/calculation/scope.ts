// Which products and partners a rule's lines come from.
import type { Agreement, MixCondition, Product, ProductScope, ProductSelector } from './calculation.types.ts';

function matches(selector: ProductSelector, product: Product): boolean {
  // An empty selector matches everything; each listed criterion narrows it.
  if (selector.skus && !selector.skus.includes(product.sku)) return false;
  if (selector.categories && !selector.categories.includes(product.category)) return false;
  for (const [name, values] of Object.entries(selector.attributes ?? {})) {
    const value = product.attributes[name];
    if (value === undefined || !values.includes(value)) return false;
  }
  return true;
}

function isEmpty(selector: ProductSelector | undefined): boolean {
  return (
    selector === undefined ||
    (selector.skus === undefined &&
      selector.categories === undefined &&
      Object.keys(selector.attributes ?? {}).length === 0)
  );
}

/** A product is in scope when it matches the inclusion criteria and no exclusion. */
export function productInScope(scope: ProductScope, product: Product): boolean {
  if (!matches(scope, product)) return false;
  if (scope.exclude && !isEmpty(scope.exclude) && matches(scope.exclude, product)) return false;
  return true;
}

/** True when the scope has no criteria at all, so every product qualifies. */
export function scopeIsAllProducts(scope: ProductScope): boolean {
  return isEmpty(scope) && isEmpty(scope.exclude);
}

export function productInMix(mix: MixCondition | undefined, product: Product): boolean {
  return mix?.categories.includes(product.category) ?? false;
}

/** The partners whose lines count: the agreement's partner, or every member of its buying group. */
export function agreementPartners(
  agreement: Agreement,
  partners: Iterable<{ id: string; buyingGroup: string | null }>,
): string[] {
  const ids: string[] = [];
  for (const p of partners) {
    if (
      agreement.partner !== undefined ? p.id === agreement.partner : p.buyingGroup === agreement.buyingGroup
    ) {
      ids.push(p.id);
    }
  }
  return ids;
}
