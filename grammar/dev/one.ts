/** Dev tool: parse one file and print the first errors as ISC would. */
import { parseConfigFile } from '../conf-parser.js';
import { formatIscError } from '../errors.js';
const t0 = performance.now();
const r = parseConfigFile(process.argv[2]!);
console.log(r.ok ? 'ok' : r.errors.map((e) => formatIscError(e)).join('\n'), `(${(performance.now() - t0).toFixed(0)} ms)`);
