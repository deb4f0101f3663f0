#!/usr/bin/env node
// Parses .bicep files with tree-sitter-bicep (its WebAssembly build, through web-tree-sitter) and
// prints, as one JSON array on stdout, each file's syntax errors and a compact syntax tree:
//
//   [{"file": "...", "extensions": ["microsoftGraphV1"], "errors": [{"line", "column", "kind", "text"}],
//     "tree": {"t": type, "f": field name, "s": source text of leaves, "x": source text of short inner
//              nodes (up to 200 characters), "r": 1-based line, "c": [named children]}}]
//
// kind is ERROR (unparsable text) or MISSING (a token the parser had to invent). The infra contract
// tests (infra/*_test.go) run this and fail on any error, then read the trees.
//
// Known grammar gap: tree-sitter-bicep 1.1.0 predates the `extension <alias>` statement (Bicep 0.30
// renamed `provider` to `extension`). Such a line is rewritten to the equivalent `import '<alias>'`
// statement the grammar knows, on the same line, and its alias is reported in "extensions".
'use strict';

const fs = require('fs');
const path = require('path');
const { Parser, Language } = require('web-tree-sitter');

const EXTENSION_LINE = /^(\s*)extension\s+([A-Za-z_][A-Za-z0-9_]*|'[^']*')\s*$/;

function rewriteExtensions(source) {
  const extensions = [];
  const lines = source.split('\n').map((line) => {
    const m = EXTENSION_LINE.exec(line.replace(/\r$/, ''));
    if (!m) return line;
    const alias = m[2].replace(/^'|'$/g, '');
    extensions.push(alias);
    return `${m[1]}import '${alias}'`;
  });
  return { text: lines.join('\n'), extensions };
}

function compact(node, field) {
  const out = { t: node.type, r: node.startPosition.row + 1 };
  if (field) out.f = field;
  const children = [];
  for (let i = 0; i < node.childCount; i++) {
    const child = node.child(i);
    if (!child.isNamed || child.type === 'comment' || child.type === 'diagnostic_comment') continue;
    children.push(compact(child, node.fieldNameForChild(i)));
  }
  if (children.length > 0) {
    out.c = children;
    if (node.text.length <= 200) out.x = node.text;
  } else {
    out.s = node.text;
  }
  return out;
}

function collectErrors(node, errors) {
  if (node.isMissing) {
    errors.push({ line: node.startPosition.row + 1, column: node.startPosition.column + 1, kind: 'MISSING', text: node.type });
  } else if (node.type === 'ERROR') {
    errors.push({ line: node.startPosition.row + 1, column: node.startPosition.column + 1, kind: 'ERROR', text: node.text.slice(0, 80) });
  }
  if (!node.hasError && !node.isMissing) return;
  for (let i = 0; i < node.childCount; i++) collectErrors(node.child(i), errors);
}

async function main(files) {
  await Parser.init();
  const wasm = path.join(path.dirname(require.resolve('tree-sitter-bicep/package.json')), 'tree-sitter-bicep.wasm');
  const parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
  const results = files.map((file) => {
    const { text, extensions } = rewriteExtensions(fs.readFileSync(file, 'utf8'));
    const tree = parser.parse(text);
    const errors = [];
    collectErrors(tree.rootNode, errors);
    return { file, extensions, errors, tree: compact(tree.rootNode) };
  });
  process.stdout.write(JSON.stringify(results));
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(2);
});
