// Room sizes (issue 17): every function over 80 lines and every source file over 400 lines in src/ and commands/,
// longest first. `node scripts/sizes.mjs`; test/foundation/sizes.test.ts holds the limits.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

export const FUNCTION_LINES = 80
export const FILE_LINES = 400

/** Functions (declarations, methods, arrows, expressions) longer than `limit` lines: [lines, "file:line name"]. */
export function longFunctions(files, limit = FUNCTION_LINES, root = process.cwd()) {
  const out = []
  for (const f of files) {
    const sf = ts.createSourceFile(f, readFileSync(path.join(root, f), 'utf8'), ts.ScriptTarget.Latest, true)
    const line = (pos) => sf.getLineAndCharacterOfPosition(pos).line
    const visit = (n) => {
      if (
        ts.isFunctionDeclaration(n) ||
        ts.isMethodDeclaration(n) ||
        ts.isArrowFunction(n) ||
        ts.isFunctionExpression(n) ||
        ts.isConstructorDeclaration(n)
      ) {
        const len = line(n.getEnd()) - line(n.getStart()) + 1
        const name = n.name?.getText() ?? (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '(anonymous)')
        if (len > limit) out.push([len, `${f}:${line(n.getStart()) + 1} ${name}`])
      }
      ts.forEachChild(n, visit)
    }
    visit(sf)
  }
  return out.sort((a, b) => b[0] - a[0])
}

/** Files longer than `limit` lines: [lines, file]. */
export function longFiles(files, limit = FILE_LINES, root = process.cwd()) {
  return files
    .map((f) => [readFileSync(path.join(root, f), 'utf8').split('\n').length - 1, f])
    .filter(([n]) => n > limit)
    .sort((a, b) => b[0] - a[0])
}

/** The TypeScript files under src/ and commands/ of `root`, relative to it, sorted. */
export function sourceFiles(root = process.cwd()) {
  const walk = (dir) =>
    readdirSync(path.join(root, dir), {withFileTypes: true}).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    )
  return [...walk('src'), ...walk('commands')].sort()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = sourceFiles()
  const fns = longFunctions(files)
  const big = longFiles(files)
  for (const [n, s] of fns) console.log(`${n}\t${s}`)
  console.log(`${fns.length} function(s) over ${FUNCTION_LINES} lines\n`)
  for (const [n, s] of big) console.log(`${n}\t${s}`)
  console.log(`${big.length} file(s) over ${FILE_LINES} lines`)
}
