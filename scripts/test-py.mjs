// Runs the repository's Python tests: the node pack with the python3 on PATH (numpy + pytest),
// and the torch-only tests under Debian's /usr/bin/python3 when python3-torch is installed there.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const suites = [
  {
    python: process.env.PYTHON ?? 'python3',
    args: ['-m', 'pytest', '-q', 'apps/comfyui-extension/tests', 'packages/modal-scaffolder/test/python'],
  },
]
const debianPython = '/usr/bin/python3'
const hasTorch =
  existsSync(debianPython) &&
  spawnSync(debianPython, ['-c', 'import torch, pytest'], { stdio: 'ignore' }).status === 0
if (hasTorch)
  suites.push({
    python: debianPython,
    args: ['-m', 'pytest', '-q', '-m', 'torch', 'apps/comfyui-extension/tests'],
  })
else
  console.log(
    'test-py: /usr/bin/python3 has no torch+pytest (apt-get install python3-torch python3-pytest); torch tests skipped',
  )

let failed = 0
for (const { python, args } of suites) {
  const paths = args.filter((a) => a.includes('/') && existsSync(a))
  if (paths.length === 0) continue
  const flags = args.filter((a) => !a.includes('/'))
  console.log(`test-py: ${python} ${[...flags, ...paths].join(' ')}`)
  const r = spawnSync(python, [...flags, ...paths], { stdio: 'inherit' })
  // pytest exit 5 = no tests collected for that selection (e.g. no torch-marked tests yet)
  if (r.status !== 0 && r.status !== 5) failed++
}
process.exit(failed ? 1 : 0)
