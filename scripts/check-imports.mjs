// check-imports.mjs fails when the modules under a source folder import
// each other in a circle, type-only imports included (a circle of types
// still ties the modules' meanings together). Usage: node
// check-imports.mjs DIR
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] || 'src');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) files.push(p);
  }
})(root);

// The relative imports of each module, resolved to files.
const from = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]/g;
const edges = new Map();
for (const f of files) {
  const out = [];
  for (const m of readFileSync(f, 'utf8').matchAll(from)) {
    const base = resolve(dirname(f), m[1]);
    const target = [base, base + '.ts', base + '.tsx', join(base, 'index.ts'), join(base, 'index.tsx')].find(
      (p) => existsSync(p) && statSync(p).isFile(),
    );
    if (target) out.push(target);
  }
  edges.set(f, out);
}

// Depth-first search; a module met again while on the path closes a circle.
const state = new Map(); // 1 on the path, 2 done
const circles = [];
function visit(f, path) {
  state.set(f, 1);
  path.push(f);
  for (const g of edges.get(f) || []) {
    if (state.get(g) === 1) circles.push(path.slice(path.indexOf(g)).concat(g));
    else if (!state.get(g)) visit(g, path);
  }
  path.pop();
  state.set(f, 2);
}
for (const f of files.sort()) if (!state.get(f)) visit(f, []);

if (circles.length) {
  for (const c of circles) console.error('import circle: ' + c.map((p) => relative(root, p)).join(' -> '));
  process.exit(1);
}
