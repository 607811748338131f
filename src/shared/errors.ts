// Expected errors are values with a code from a closed set per domain and a
// location that names the file, line and field at fault. Bugs are assertions.

export interface ErrorLocation {
  file?: string;
  /** 1-based line in the file (the header is line 1). */
  line?: number;
  /** Column or JSON path of the offending field. */
  field?: string;
}

export interface Problem extends ErrorLocation {
  code: string;
  message: string;
}

/** An expected failure with a stable code; `problems` lists every row or field at fault. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function describeProblem(p: Problem): string {
  const where = [
    p.file,
    p.line !== undefined ? `line ${p.line}` : undefined,
    p.field ? `field ${p.field}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  return `${where ? `${where}: ` : ''}${p.message} [${p.code}]`;
}
