#!/usr/bin/env node
// tokenize.js - the TextMate grammar (editors/textmate/nn.tmLanguage.json) run through
// vscode-textmate + vscode-oniguruma (what VS Code uses) on every .nn of stdlib/ and examples/.
// Each line's scopes are checked against a small lexer of the language written here after
// lang/lexer.c: every comment character is a comment, every string character a string, every
// number a constant.numeric, every keyword (train's only inside train { }) a keyword, nothing is
// invalid. Then a few known lines are checked token by token.
// usage: node tokenize.js SOURCE_DIR NODE_MODULES_DIR...   (exit 77: the modules are not installed)
'use strict';
const fs = require('fs');
const path = require('path');

const src = process.argv[2];
const modsDir = process.argv.slice(3).find(d => fs.existsSync(path.join(d, 'vscode-textmate')) &&
                                                fs.existsSync(path.join(d, 'vscode-oniguruma')));
if (!modsDir) {
  console.log('skip: vscode-textmate and vscode-oniguruma are not installed (scripts/install-deps.sh installs them into build/npm)');
  process.exit(77);
}
const vsctm = require(path.join(modsDir, 'vscode-textmate'));
const onig = require(path.join(modsDir, 'vscode-oniguruma'));
const grammarPath = path.join(src, 'editors', 'textmate', 'nn.tmLanguage.json');

const KEYWORDS = ['use', 'fn', 'layer', 'optimizer', 'model', 'param', 'state', 'input', 'target', 'output', 'loss',
                  'train', 'minimize', 'over', 'with', 'for', 'in', 'return', 'true', 'false', 'and', 'or', 'not',
                  'if', 'else'];
const TRAIN_KEYWORDS = ['data', 'batch', 'epochs', 'metrics', 'validation', 'step'];

let failures = 0;
function fail(msg) { failures++; if (failures <= 30) console.log('FAIL: ' + msg); }

// [{start, end, kind}] of one file's lines: comment, string, number, keyword, word; after lexer.c
function lexLines(text) {
  const lines = text.split('\n');
  const out = [];
  const stack = [];
  let prevWord = null;
  for (const line of lines) {
    const toks = [];
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (c === '#') { toks.push({ start: i, end: line.length, kind: 'comment' }); break; }
      if (c === '"') {
        let j = i + 1;
        while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
        j = Math.min(j + 1, line.length);
        toks.push({ start: i, end: j, kind: 'string' }); i = j; prevWord = null; continue;
      }
      if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(line[i + 1] || '') && line[i - 1] !== '.')) {
        const m = /^(?:[0-9]*\.[0-9]+|[0-9]+(?!\.[0-9]))(?:[eE][+-]?[0-9]+)?|^[0-9]+/.exec(line.slice(i));
        const m2 = /^[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|^[0-9]+[eE][+-]?[0-9]+|^\.[0-9]+(?:[eE][+-]?[0-9]+)?|^[0-9]+/.exec(line.slice(i));
        const len = (m2 || m)[0].length;
        toks.push({ start: i, end: i + len, kind: 'number', text: line.slice(i, i + len) }); i += len; prevWord = null; continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        const w = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(i))[0];
        const inTrain = stack.length && stack[stack.length - 1] === 'T';
        const kw = KEYWORDS.includes(w) || (inTrain && TRAIN_KEYWORDS.includes(w));
        toks.push({ start: i, end: i + w.length, kind: kw ? 'keyword' : 'word', text: w });
        i += w.length; prevWord = w; continue;
      }
      if ('([{'.includes(c)) stack.push(c === '{' && prevWord === 'train' ? 'T' : c);
      else if (')]}'.includes(c)) stack.pop();
      if (c !== ' ' && c !== '\t') prevWord = null;
      i++;
    }
    out.push(toks);
  }
  return { lines, toks: out };
}

function scopesAt(tokens, col) {
  for (const t of tokens) if (col >= t.startIndex && col < t.endIndex) return t.scopes;
  return [];
}
const has = (scopes, prefix) => scopes.some(s => s.startsWith(prefix));

function nnFiles() {
  const files = [];
  const walk = d => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.nn')) files.push(p);
    }
  };
  walk(path.join(src, 'stdlib'));
  walk(path.join(src, 'examples'));
  return files.sort();
}

async function main() {
  const wasm = fs.readFileSync(path.join(modsDir, 'vscode-oniguruma', 'release', 'onig.wasm')).buffer;
  await onig.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: p => new onig.OnigScanner(p),
      createOnigString: s => new onig.OnigString(s),
    }),
    loadGrammar: async name => name === 'source.nn'
      ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const grammar = await registry.loadGrammar('source.nn');
  const tokenize = text => {
    let stack = vsctm.INITIAL;
    return text.split('\n').map(line => {
      const r = grammar.tokenizeLine(line, stack);
      stack = r.ruleStack;
      return r.tokens;
    });
  };

  const files = nnFiles();
  let checked = 0;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    const rel = path.relative(src, f);
    const mine = lexLines(text);
    const tm = tokenize(text);
    mine.toks.forEach((toks, li) => {
      for (const t of tm[li]) if (has(t.scopes, 'invalid')) fail(`${rel}:${li + 1}:${t.startIndex + 1}: invalid scope ${t.scopes.join(' ')}`);
      for (const t of toks) {
        const sc = scopesAt(tm[li], t.start);
        const where = `${rel}:${li + 1}:${t.start + 1} '${mine.lines[li].slice(t.start, Math.min(t.end, t.start + 20))}'`;
        checked++;
        if (t.kind === 'comment' || t.kind === 'string') {
          for (let c = t.start; c < t.end; c++) {
            if (!has(scopesAt(tm[li], c), t.kind)) { fail(`${where}: column ${c + 1} is not in a ${t.kind}: ${scopesAt(tm[li], c).join(' ')}`); break; }
          }
        } else if (t.kind === 'number') {
          const want = /[.eE]/.test(t.text) ? 'constant.numeric.float' : 'constant.numeric.integer';
          if (!has(sc, want) || !has(scopesAt(tm[li], t.end - 1), want)) fail(`${where}: want ${want}, got ${sc.join(' ')}`);
        } else if (t.kind === 'keyword') {
          if (!(has(sc, 'keyword') || has(sc, 'storage.type') || has(sc, 'constant.language'))) fail(`${where}: keyword scoped ${sc.join(' ')}`);
        } else if (TRAIN_KEYWORDS.includes(t.text) || KEYWORDS.includes(t.text)) {
          if (has(sc, 'keyword')) fail(`${where}: '${t.text}' outside train { } is a name, scoped ${sc.join(' ')}`);
        }
      }
    });
  }
  if (files.length < 20) fail(`only ${files.length} files found under ${src}/stdlib and ${src}/examples`);
  console.log(`ok: ${files.length} files, ${checked} tokens agree with the language's lexer`);

  // known lines, token by token
  const sample = [
    '# a comment',
    'use nn',
    'layer block(x: f32[B, K], units: N, act: fn = relu) -> f32[B, N] {',
    '  param W: f32[K, N] = glorot_uniform',
    '  h = act(x @ W + b) ** 2  # trailing',
    '  s = "a\\"b\\n"',
    '  if not true and x >= 0.5 { 1 } else { -2.5e-3 }',
    '}',
    'model m {',
    '  train {',
    '    data csv("d.csv", label = "y")',
    '    step g: minimize g_loss over g with adam(lr = 1e-3)',
    '    batch 64  epochs 2  metrics accuracy',
    '  }',
    '}',
    'fn f(step: int, data: int) -> int { step + data }',
  ];
  const tt = tokenize(sample.join('\n'));
  const expect = (li, word, prefix, nth = 0) => {
    let col = -1;
    for (let k = 0; k <= nth; k++) col = sample[li].indexOf(word, col + 1);
    if (col < 0) return fail(`sample line ${li + 1} has no '${word}'`);
    const sc = scopesAt(tt[li], col);
    if (!has(sc, prefix)) fail(`sample line ${li + 1} '${word}': want ${prefix}, got ${sc.join(' ')}`);
  };
  const expectNot = (li, word, prefix) => {
    const col = sample[li].indexOf(word);
    const sc = scopesAt(tt[li], col);
    if (has(sc, prefix)) fail(`sample line ${li + 1} '${word}': must not be ${prefix}, got ${sc.join(' ')}`);
  };
  expect(0, '#', 'comment.line.number-sign.nn');
  expect(1, 'use', 'keyword.other.nn');
  expect(2, 'layer', 'storage.type.nn'); expect(2, 'block', 'entity.name.function.nn');
  expect(2, 'f32', 'support.type.nn'); expect(2, '->', 'keyword.operator.arrow.nn');
  expect(3, 'param', 'keyword.other.nn'); expect(3, '=', 'keyword.operator.assignment.nn');
  expect(4, 'act', 'entity.name.function.call.nn'); expect(4, '@', 'keyword.operator.arithmetic.nn');
  expect(4, '**', 'keyword.operator.arithmetic.nn'); expect(4, '2', 'constant.numeric.integer.nn');
  expect(4, '# trailing', 'comment.line');
  expect(5, '"a', 'string.quoted.double.nn'); expect(5, '\\"', 'constant.character.escape.nn');
  expect(5, '\\n', 'constant.character.escape.nn');
  expect(6, 'if', 'keyword.control.nn'); expect(6, 'not', 'keyword.operator.logical.nn');
  expect(6, 'true', 'constant.language.boolean.nn'); expect(6, '0.5', 'constant.numeric.float.nn');
  expect(6, '2.5e-3', 'constant.numeric.float.nn'); expect(6, 'else', 'keyword.control.nn');
  expect(8, 'model', 'storage.type.nn'); expect(8, 'm', 'entity.name.function.nn', 1);
  expect(9, 'train', 'keyword.other.train.nn');
  expect(10, 'data', 'keyword.other.train.nn'); expect(10, '"d.csv"', 'string.quoted.double.nn');
  expect(10, 'csv', 'entity.name.function.call.nn');
  expect(11, 'step', 'keyword.other.train.nn'); expect(11, 'minimize', 'keyword.other.nn');
  expect(11, 'over', 'keyword.other.nn'); expect(11, 'with', 'keyword.other.nn');
  expect(11, '1e-3', 'constant.numeric.float.nn');
  expect(12, 'batch', 'keyword.other.train.nn'); expect(12, 'epochs', 'keyword.other.train.nn');
  expect(12, '64', 'constant.numeric.integer.nn'); expect(12, 'metrics', 'keyword.other.train.nn');
  expectNot(12, 'accuracy', 'keyword');
  expectNot(15, 'step', 'keyword'); expectNot(15, 'data', 'keyword');   // names outside train
  if (failures) { console.log(`${failures} failures`); process.exit(1); }
  console.log('ok: the TextMate grammar');
}
main().catch(e => { console.log('FAIL: ' + (e && e.stack || e)); process.exit(1); });
