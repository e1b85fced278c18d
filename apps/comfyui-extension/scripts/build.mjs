#!/usr/bin/env node
// Builds the pack's generated folders (no typecheck; `pnpm typecheck` does that):
//   bridge/bridge.mjs      one self-contained ESM file (remote-client, modal-scaffolder, protocol inlined)
//   bridge/assets/         what the scaffolder reads from disk at runtime (templates, node pack python)
//   web/js/comfy-remote.js the frontend extension (ComfyUI serves WEB_DIRECTORY = ./web)
import { cp, mkdir, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const require = createRequire(join(root, 'package.json'))
const exists = (p) =>
  stat(p).then(
    () => true,
    () => false,
  )

await rm(join(root, 'bridge'), { recursive: true, force: true })
await rm(join(root, 'web', 'js'), { recursive: true, force: true })

// CommonJS dependencies (nunjucks) call require('fs') etc.; give the ESM bundle a real require.
const banner = [
  "import { createRequire as __crCreateRequire } from 'node:module';",
  'const require = __crCreateRequire(import.meta.url);',
].join('\n')

// The scaffolder finds its templates relative to its own module (dist/assets.js -> dist/assets/). Inside the
// bundle that module lives in bridge.mjs, so point its import.meta.url at bridge/scaffolder/dist/assets.js,
// where the copy below puts the assets. Keeps forced rebuilds (which re-render templates) working in the pack.
let assetsPatched = false
const scaffolderAssets = {
  name: 'scaffolder-assets',
  setup(b) {
    b.onLoad({ filter: /modal-scaffolder[\\/]dist[\\/]assets\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      assetsPatched = source.includes('import.meta.url')
      const contents = source.replaceAll(
        'import.meta.url',
        "new URL('./scaffolder/dist/assets.js', import.meta.url).href",
      )
      return { contents, loader: 'js' }
    })
  },
}

await build({
  absWorkingDir: root,
  entryPoints: ['src/bridge/cli.ts'],
  plugins: [scaffolderAssets],
  outfile: 'bridge/bridge.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: banner },
  define: { __BRIDGE_VERSION__: JSON.stringify(pkg.version) },
  // Optional watch-mode dependencies of nunjucks; never loaded by the bridge.
  external: ['chokidar', 'fsevents'],
  legalComments: 'none',
  logLevel: 'warning',
})

// The scaffolder's runtime files: templates and the node pack python it copies into Modal projects.
let scaffolderDir = null
try {
  scaffolderDir = dirname(require.resolve('@comfy-remote/modal-scaffolder/package.json'))
} catch {}
if (!assetsPatched)
  console.warn('build: modal-scaffolder dist/assets.js not patched; check how it finds its templates')
if (scaffolderDir && (await exists(join(scaffolderDir, 'dist', 'assets', 'templates')))) {
  // Templates only: the node pack python is the pack itself (bridge/..), passed as nodePackDir.
  await cp(
    join(scaffolderDir, 'dist', 'assets', 'templates'),
    join(root, 'bridge', 'scaffolder', 'dist', 'assets', 'templates'),
    {
      recursive: true,
    },
  )
} else {
  console.warn(
    'build: @comfy-remote/modal-scaffolder has no dist/assets yet; deploy in the bridge will lack templates',
  )
}

await mkdir(join(root, 'web', 'js'), { recursive: true })
await build({
  absWorkingDir: root,
  entryPoints: ['src/web/main.ts'],
  outfile: 'web/js/comfy-remote.js',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  // ComfyUI serves web/js/comfy-remote.js at <base>/extensions/<pack>/js/: import its app/api shims
  // relative to that, so a ComfyUI served under a sub-path (reverse proxy) works too.
  plugins: [
    {
      name: 'comfyui-shims',
      setup(b) {
        b.onResolve({ filter: /^\/scripts\/(app|api)\.js$/ }, (args) => ({
          path: `../../..${args.path}`,
          external: true,
        }))
      },
    },
  ],
  legalComments: 'none',
  logLevel: 'warning',
})
console.log('build: bridge/bridge.mjs, web/js/comfy-remote.js')
