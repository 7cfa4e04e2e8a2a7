// GET /v1/openapi.json: an OpenAPI 3.1 document generated from the wire schemas, with the answers
// of each route and the error codes it can give (their HTTP statuses from errors.ts).
import Type, { type TSchema } from 'typebox';
import { CancelAnswer, errorBodyOf, RecordStatus, ServerInfo, SubmitAnswer, VERSION } from '../wire/answers.js';
import { submitRequestSchema, type SubmitLimits } from '../wire/submit-request.js';
import type { ErrorCode } from '../wire/vocabulary.js';
import { HTTP_STATUS } from './errors.js';

interface Operation {
  readonly summary: string;
  readonly body?: TSchema;
  /** Success answers by HTTP status. */
  readonly answers: Readonly<Record<number, TSchema>>;
  /** Refusals besides internal_error, which every route can give. */
  readonly errors: readonly ErrorCode[];
  readonly bearer?: boolean;
}

const OpenApiShape = Type.Object({ openapi: Type.Literal('3.1.0'), paths: Type.Object({}) }, { description: 'this document' });

function operations(limits: SubmitLimits): Record<string, Record<string, Operation>> {
  const submitErrors: ErrorCode[] = ['invalid_json', 'invalid_locktime', 'invalid_sealed', 'invalid_window', 'unknown_key', 'locktime_too_far', 'stamp_required'];
  return {
    '/v1/info': { get: { summary: 'The server: network, keys, chain tip, limits', answers: { 200: ServerInfo }, errors: [] } },
    '/v1/openapi.json': { get: { summary: 'This document', answers: { 200: OpenApiShape }, errors: [] } },
    '/v1/transactions': {
      post: {
        summary: 'Hand in a sealed transaction; 200 for a retry of a stored blob',
        body: submitRequestSchema(limits),
        answers: { 201: SubmitAnswer, 200: SubmitAnswer },
        errors: [...submitErrors, 'payload_too_large', 'unsupported_media_type', 'store_full', 'unavailable'],
      },
    },
    '/v1/transactions/{id}': {
      get: { summary: 'Where a transaction is', answers: { 200: RecordStatus }, errors: ['not_found'] },
      delete: {
        summary: 'Cancel before it leaves the server; the sealed blob is wiped at once',
        answers: { 200: CancelAnswer },
        errors: ['unauthorized', 'forbidden', 'not_found', 'already_broadcast', 'already_final'],
        bearer: true,
      },
    },
  };
}

const json = (schema: TSchema) => ({ 'application/json': { schema } });

function errorResponses(codes: readonly ErrorCode[]): Record<string, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, group]) => [status, { description: group.join(', '), content: json(errorBodyOf(group)) }]));
}

function operationObject(op: Operation): object {
  const answers = Object.entries(op.answers).map(([status, schema]) => [status, { description: op.summary, content: json(schema) }]);
  return {
    summary: op.summary,
    ...(op.body ? { requestBody: { required: true, content: json(op.body) } } : {}),
    ...(op.bearer ? { security: [{ token: [] }] } : {}),
    responses: { ...Object.fromEntries(answers), ...errorResponses([...op.errors, 'internal_error']) },
  };
}

const ID_PARAMETER = { name: 'id', in: 'path', required: true, schema: Type.String(), description: '32 hex; any other id is 404 not_found' };

/** The document for a server with these limits (the request schema carries them). */
export function openApiDocument(limits: SubmitLimits): object {
  const paths = Object.entries(operations(limits)).map(([path, methods]) => [
    path,
    {
      ...(path.includes('{id}') ? { parameters: [ID_PARAMETER] } : {}),
      ...Object.fromEntries(Object.entries(methods).map(([method, op]) => [method, operationObject(op)])),
    },
  ]);
  return {
    openapi: '3.1.0',
    info: { title: 'RelayStore', version: VERSION, description: 'Stores time-locked Bitcoin transactions sealed to its key and broadcasts them through Tor at maturity.' },
    paths: Object.fromEntries(paths),
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'the token answered when the transaction was handed in' } },
      responses: {
        NotFound: { description: 'no such path', content: json(errorBodyOf(['not_found'])) },
        MethodNotAllowed: { description: 'the path does not take this method', content: json(errorBodyOf(['method_not_allowed'])) },
      },
    },
  };
}
