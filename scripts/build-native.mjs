// Compiles the native addon (native/binding.gyp) with the node-gyp that npm bundles, so it
// builds against the local Node headers and needs no network. A failed build is not fatal:
// leantrain then runs its pure-TypeScript reference backend and says so when it starts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
const res = spawnSync(cmd, [...args, 'rebuild', '--directory', path.join(root, 'native')], {
  stdio: 'inherit',
  env: process.env,
});
if (res.status !== 0) {
  console.warn(
    '[leantrain] the native addon did not build (see the compiler output above); ' +
      'leantrain will run on the slower pure-TypeScript reference backend.',
  );
}
process.exit(0);
