// Lists the functions longer than the house rule allows (50 lines), read by the TypeScript compiler's
// own parser. `node dist/scripts/check-functions.js [--max N] [DIR ...]` (default src); exit 1 if any.
import { resolve, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { API } from 'typescript/unstable/sync';
import type { Node, SourceFile } from 'typescript/unstable/ast';
import {
  isArrowFunction,
  isClassDeclaration,
  isConstructorDeclaration,
  isFunctionDeclaration,
  isFunctionExpression,
  isGetAccessorDeclaration,
  isIdentifier,
  isMethodDeclaration,
  isPropertyAssignment,
  isPropertyDeclaration,
  isSetAccessorDeclaration,
  isVariableDeclaration,
} from 'typescript/unstable/ast/is';

export const MAX_FUNCTION_LINES = 50;

export interface LongFunction {
  /** Relative to the project root, with forward slashes. */
  readonly file: string;
  /** 1-based line of the function's first token (after its doc comment). */
  readonly line: number;
  readonly name: string;
  /** From the line of its first token to the line of its last, both counted. */
  readonly lines: number;
}

/** Every function, method, accessor, constructor and arrow function in the files of `root`'s tsconfig.json under `dirs`, longer than `max` lines. */
export function longFunctions(root: string, dirs: readonly string[], max = MAX_FUNCTION_LINES): LongFunction[] {
  const prefixes = dirs.map((d) => resolve(root, d) + sep);
  // The native compiler runs as a child process; the API speaks to it over a pipe.
  const api = new API({ cwd: root });
  try {
    const project = api.updateSnapshot({ openProjects: [resolve(root, 'tsconfig.json')] }).getProjects()[0];
    if (!project) throw new Error(`no project in ${root}/tsconfig.json`);
    const files = project.program.getSourceFileNames().filter((f) => prefixes.some((p) => resolve(f).startsWith(p)));
    return files.flatMap((f) => functionsIn(project.program.getSourceFile(f)!, root)).filter((fn) => fn.lines > max);
  } finally {
    api.close();
  }
}

function functionsIn(file: SourceFile, root: string): LongFunction[] {
  const found: LongFunction[] = [];
  const name = relative(root, file.fileName).split(sep).join('/');
  const visit = (node: Node): void => {
    if (isFunctionLike(node)) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file: name, line: start + 1, name: nameOf(node), lines: end - start + 1 });
    }
    node.forEachChild(visit);
  };
  visit(file);
  return found;
}

function isFunctionLike(node: Node): boolean {
  return (
    isFunctionDeclaration(node) ||
    isFunctionExpression(node) ||
    isArrowFunction(node) ||
    isMethodDeclaration(node) ||
    isConstructorDeclaration(node) ||
    isGetAccessorDeclaration(node) ||
    isSetAccessorDeclaration(node)
  );
}

/** `f`, `Class.method`, `Class.constructor`, or the variable or property an anonymous function is given to. */
function nameOf(node: Node): string {
  const own = ownName(node) ?? ownName(node.parent) ?? '(anonymous)';
  const owner = node.parent;
  return owner && isClassDeclaration(owner) && owner.name ? `${owner.name.text}.${own}` : own;
}

function ownName(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (isConstructorDeclaration(node)) return 'constructor';
  const named = isFunctionDeclaration(node) || isFunctionExpression(node) || isMethodDeclaration(node) || isGetAccessorDeclaration(node) ||
    isSetAccessorDeclaration(node) || isVariableDeclaration(node) || isPropertyAssignment(node) || isPropertyDeclaration(node);
  const id = named ? (node as { name?: Node }).name : undefined;
  return id && isIdentifier(id) ? id.text : undefined;
}

function main(argv: readonly string[]): number {
  const maxAt = argv.indexOf('--max');
  const max = maxAt === -1 ? MAX_FUNCTION_LINES : Number(argv[maxAt + 1]);
  // Without --max (maxAt -1), index 0 is a directory like the rest, not the value of a --max.
  const dirs = maxAt === -1 ? [...argv] : argv.filter((_, i) => i !== maxAt && i !== maxAt + 1);
  const long = longFunctions(process.cwd(), dirs.length > 0 ? dirs : ['src'], max);
  for (const fn of long) process.stdout.write(`${fn.file}:${fn.line} ${fn.name} ${fn.lines} lines\n`);
  process.stdout.write(long.length === 0 ? `no function over ${max} lines\n` : `${long.length} function(s) over ${max} lines\n`);
  return long.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
