// Calls to the server's API. The session is an HTTP-only cookie the browser
// sends by itself; every change carries an Idempotency-Key, so a retried click
// is never carried out twice. Errors keep the server's code, message and fields.
export interface FieldProblem {
  field?: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
  }
}

const BASE = '/api/v1';

async function answer<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const problem =
      typeof body === 'object' && body !== null ? body : { code: 'error', message: String(body) };
    throw new ApiError(response.status, problem.code, problem.message, problem.details ?? []);
  }
  return body as T;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['idempotency-key'] = crypto.randomUUID();
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return answer<T>(response);
}

export async function upload<T>(path: string, form: FormData): Promise<T> {
  const response = await fetch(`${BASE}${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'idempotency-key': crypto.randomUUID() },
    body: form,
  });
  return answer<T>(response);
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Me {
  id: string;
  username: string;
  displayName: string;
  role: 'admin' | 'commercial' | 'sales' | 'finance' | 'auditor' | 'partner';
  partner: string | null;
  group: string | null;
}
