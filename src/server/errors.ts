// Errors over HTTP are `{code, message, details}`: a stable code, a sentence for
// people, and, for bad input, one detail per field at fault.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type Problem } from '../shared/errors.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The fields at fault, when there are any. */
    readonly details?: readonly Problem[],
  ) {
    super(message);
  }
}

/** Problems as the `details` of an error answer: field, code, message. */
export function problemDetails(problems: readonly Problem[]) {
  return problems.map((p) => ({
    ...(p.field !== undefined ? { field: p.field } : {}),
    code: p.code,
    message: p.message,
  }));
}

export function notFound(what: string, id: string): HttpError {
  return new HttpError(404, 'not_found', `no ${what} ${JSON.stringify(id)}`);
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

/** Fastify's own codes (FST_…) named in our words; a plugin's own code (rate limits) is kept. */
function refusalCode(code: string | undefined): string {
  if (code === undefined) return 'bad_request';
  return FASTIFY_CODES[code] ?? (code.startsWith('FST_') ? 'bad_request' : code);
}

export function installErrorHandler(
  app: FastifyInstance,
  /** Answers a path that is no route, when it is a page of the web app. */
  page?: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | false,
): void {
  app.setNotFoundHandler((request, reply) => {
    if (page?.(request, reply)) return;
    reply
      .code(404)
      .send({ code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = error.validation.map((v) => {
        const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return { field: path || where, code: 'invalid_value', message: `${path || where}: ${v.message}` };
      });
      reply.code(400).send({
        code: 'invalid_request',
        message: details.map((d) => d.message).join('; '),
        details,
      });
      return;
    }
    if (error instanceof HttpError) {
      reply.code(error.status).send({
        code: error.code,
        message: error.message,
        ...(error.details ? { details: problemDetails(error.details) } : {}),
      });
      return;
    }
    if (error instanceof DomainError) {
      reply.code(422).send({
        code: error.code,
        message: error.message,
        details: problemDetails(error.problems),
      });
      return;
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own refusals: a body too large, a malformed JSON body, a wrong content type.
      reply.code(error.statusCode).send({ code: refusalCode(error.code), message: error.message });
      return;
    }
    request.log.error({ err: error }, 'request failed');
    reply
      .code(500)
      .send({ code: 'internal_error', message: 'the server failed to answer; the error is in its log' });
  });
}
