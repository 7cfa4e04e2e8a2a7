// Holds HTTP answers against the OpenAPI document the server itself serves (GET /v1/openapi.json):
// the schema of the route, method and status, or the shared 404/405 answers where no route is.
import type { ExecutionContext } from 'ava';
import Value from 'typebox/value';
import type { World } from './world.js';

interface Response {
  readonly content?: { readonly 'application/json'?: { readonly schema: object } };
}
export interface OpenApi {
  readonly paths: Record<string, Record<string, { readonly responses: Record<string, Response> } | unknown>>;
  readonly components: { readonly responses: Record<'NotFound' | 'MethodNotAllowed', Response> };
}
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly json: unknown;
  readonly headers: Record<string, unknown>;
}

const templateRe = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** The documented response for this exchange, or why there is none. */
function documented(doc: OpenApi, { method, url, status }: Exchange): Response | string {
  const pathname = new URL(url, 'http://relaystore.test').pathname;
  const path = Object.keys(doc.paths).find((p) => templateRe(p).test(pathname));
  if (path === undefined) return status === 404 ? doc.components.responses.NotFound : `${status} for a path no route has`;
  const operation = doc.paths[path]![method.toLowerCase()] as { responses: Record<string, Response> } | undefined;
  if (operation === undefined) return status === 405 ? doc.components.responses.MethodNotAllowed : `${status} for a method ${path} does not take`;
  return operation.responses[String(status)] ?? `status ${status} is not documented for ${method} ${path}`;
}

/** What is wrong with an answer by the document: nothing, when the list is empty. */
export function contractProblems(doc: OpenApi, exchange: Exchange): string[] {
  const response = documented(doc, exchange);
  if (typeof response === 'string') return [response];
  const schema = response.content?.['application/json']?.schema;
  if (schema === undefined) return ['the document gives no JSON schema for this answer'];
  if (!/^application\/json\b/.test(String(exchange.headers['content-type']))) return [`content-type ${String(exchange.headers['content-type'])}`];
  return Value.Errors(schema as never, exchange.json).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Makes every answer `world.request` gets one more assertion: it matches the served document. */
export async function holdToContract(t: ExecutionContext, world: World): Promise<OpenApi> {
  const doc = (await world.request({ method: 'GET', url: '/v1/openapi.json' })).json as OpenApi;
  const request = world.request;
  world.request = async (req) => {
    const res = await request(req);
    t.deepEqual(contractProblems(doc, { ...req, ...res }), [], `${req.method} ${req.url} → ${res.status} answers as /v1/openapi.json says`);
    return res;
  };
  return doc;
}
