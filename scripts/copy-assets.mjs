// Copy non-TypeScript assets (service models, dashboard files) from src/ into dist/.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pairs = [
  ['src/protocol', 'dist/protocol', /\.json$/],
  ['src/web/static', 'dist/web/static', /./],
];
for (const [from, to, re] of pairs) {
  const src = path.join(root, from);
  if (!fs.existsSync(src)) continue;
  fs.mkdirSync(path.join(root, to), { recursive: true });
  for (const f of fs.readdirSync(src)) {
    if (re.test(f) && fs.statSync(path.join(src, f)).isFile()) fs.copyFileSync(path.join(src, f), path.join(root, to, f));
  }
}
