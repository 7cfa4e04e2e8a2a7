// Loads the JSON fixture tables under test/fixtures (tests run from dist/test, fixtures stay in test/).
import { readFileSync } from 'node:fs';

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8')) as T;
}
