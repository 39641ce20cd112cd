import { readFileSync } from 'node:fs';
import { parseConfigText } from '../conf-parser.js';
const text = process.argv[2] ? readFileSync(process.argv[2], 'latin1') : '';
const slow = parseConfigText(text, 'gen.conf');
const fast = parseConfigText(text, 'gen.conf', { fastHosts: true });
console.log(slow.ok, fast.ok, slow.ast.statements.length, fast.ast.statements.length);
for (let i = 0; i < slow.ast.statements.length; i++) {
  const a = JSON.stringify(slow.ast.statements[i]), b = JSON.stringify(fast.ast.statements[i]);
  if (a !== b) { console.log('SLOW', a); console.log('FAST', b); break; }
}
