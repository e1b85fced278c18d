import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { PACK_DIR } from './helpers/bridge.js'

// ComfyUI serves the bundle at <base>/extensions/<pack>/js/comfy-remote.js; its app/api shims must be imported
// relative to that (not from the server root) so a ComfyUI behind a reverse-proxy sub-path still loads it.
it('the frontend bundle imports ComfyUI app/api relative to its own URL, and nothing else', () => {
  const js = readFileSync(join(PACK_DIR, 'web', 'js', 'comfy-remote.js'), 'utf8')
  const imports = [...js.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((m) => m[1]).sort()
  expect(imports).toEqual(['../../../scripts/api.js', '../../../scripts/app.js'])
  expect(
    new URL('../../../scripts/app.js', 'http://h/base/extensions/comfy-remote/js/comfy-remote.js').pathname,
  ).toBe('/base/scripts/app.js')
})
