// Fake `modal` CLI. Records {argv, cwd, env} as one JSON line to $FAKE_MODAL_RECORD and prints output
// like the real CLI (rich tree, ANSI colours), chosen by $FAKE_MODAL_MODE:
//   ok | wrapped | arrow-eol | proxy-wrapped | fail | token | secret | models-secret-key | nourl | nourl-dev | slow (prints, then waits 60 s)
//   app stop: legacy-stop | already-stopped | fail
const fs = require('node:fs')
const path = require('node:path')

const mode = process.env.FAKE_MODAL_MODE || 'ok'
const keep = ['MODAL_IGNORE_CACHE', 'COLUMNS', 'NO_COLOR', 'TERM', 'PYTHONIOENCODING', 'EXTRA_ENV']
const env = Object.fromEntries(
  keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
)
if (process.env.FAKE_MODAL_RECORD) {
  fs.appendFileSync(
    process.env.FAKE_MODAL_RECORD,
    `${JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env, pid: process.pid })}\n`,
  )
}
const args = process.argv.slice(2)
const green = (s) => `\u001b[32m${s}\u001b[0m`
const out = (s) => process.stdout.write(`${s}\n`)

if (args[0] === 'app' && args[1] === 'stop') {
  // Like modal/cli/app.py: current CLIs confirm unless --yes (and abort without a TTY);
  // FAKE_MODAL_MODE=legacy-stop is a CLI from before --yes existed (click usage error, exit 2).
  const yes = args.includes('--yes') || args.includes('-y')
  const name = args.slice(2).find((a) => !a.startsWith('-'))
  if (mode === 'legacy-stop' && yes) {
    process.stderr.write(
      `Usage: modal app stop [OPTIONS] APP_IDENTIFIER\nTry 'modal app stop --help' for help.\n\nError: No such option: --yes\n`,
    )
    process.exit(2)
  }
  if (mode === 'fail') {
    process.stderr.write(`Error: Could not find a deployed app named '${name}'.\n`)
    process.exit(1)
  }
  if (mode === 'already-stopped') {
    process.stderr.write('App is already stopped. (Stopped at 2026-11-27 09:00 UTC).\n')
    process.exit(1)
  }
  if (!yes && mode !== 'legacy-stop') {
    out(`Are you sure you want to stop App '${name}'? No containers are currently running. [y/N]: `)
    process.stderr.write(
      'Aborted: no interactive terminal detected. Rerun with --yes (-y) to skip confirmation.\n',
    )
    process.exit(1)
  }
  process.exit(0)
}
if (args[0] !== 'deploy') {
  process.stderr.write(`fake modal: unsupported command ${args.join(' ')}\n`)
  process.exit(2)
}
function deploy() {
  if (mode === 'token') {
    process.stderr.write(
      'Token missing. Could not authenticate client. If you have token credentials, see modal.com/docs/reference/modal.config for setup help. If you are a new user, register an account at modal.com, then run `modal token new`.\n',
    )
    process.exit(1)
  }
  if (mode === 'secret') {
    process.stderr.write("Error: Secret 'my-app-auth' not found in environment 'main'\n")
    process.exit(1)
  }
  if (mode === 'models-secret-key') {
    process.stderr.write(
      "modal.exception.NotFoundError: Secret 'hf-secret' is missing required key(s): HF_TOKEN\n",
    )
    process.exit(1)
  }
  if (mode === 'secret-key') {
    process.stderr.write(
      "modal.exception.NotFoundError: Secret 'echo-app-auth' is missing required key(s): COMFY_REMOTE_TOKEN\n",
    )
    process.exit(1)
  }
  if (mode === 'fail') {
    out('Building image im-abc123')
    process.stderr.write('Image build for im-abc123 failed. See build logs for more details.\n')
    process.exit(1)
  }
  const app = path.basename(process.cwd())
  const url = `https://my-long-workspace-name--${app}-web.modal.run`
  out(
    `${green('\u2713')} Initialized. View run at https://modal.com/apps/my-long-workspace-name/main/ap-1a2b3c4d5e`,
  )
  out(`${green('\u2713')} Created objects.`)
  out(`\u251c\u2500\u2500 \ud83d\udd28 Created mount ${process.cwd()}/workflow.py`)
  out('\u251c\u2500\u2500 \ud83d\udd28 Created mount PythonPackage:comfy_wire')
  out('\u251c\u2500\u2500 \ud83d\udd28 Created function ComfyWorker.*.')
  if (mode === 'wrapped') {
    // A CLI that ignores COLUMNS and wraps at 48 characters, continuing under the tree guide.
    const line = `\u2514\u2500\u2500 \ud83d\udd28 Created web function web => ${url}`
    const parts = []
    for (let i = 0; i < line.length; i += 48) parts.push(line.slice(i, i + 48))
    out(parts[0])
    for (const p of parts.slice(1)) out(`    ${p}`)
  } else if (mode === 'proxy-wrapped') {
    // Proxy auth adds " \u{1f511}" after the URL; a CLI that wraps at 40 columns folds the URL.
    const line = `\u2514\u2500\u2500 \ud83d\udd28 Created web function web => ${url} \u{1f511} (label truncated)`
    const words = line.split(' ')
    let cur = ''
    const rows = []
    for (const w of words) {
      if ((cur ? `${cur} ${w}` : w).length <= 40) cur = cur ? `${cur} ${w}` : w
      else {
        if (cur) rows.push(cur)
        let rest = w
        while (rest.length > 40) {
          rows.push(rest.slice(0, 40))
          rest = rest.slice(40)
        }
        cur = rest
      }
    }
    rows.push(cur)
    for (const [i, r] of rows.entries()) out(i === 0 ? r : `    ${r}`)
  } else if (mode === 'arrow-eol') {
    out('\u2514\u2500\u2500 \ud83d\udd28 Created web function web =>')
    out(`    ${url.slice(0, 30)}`)
    out(`    ${url.slice(30)}`)
  } else if (mode !== 'nourl' && mode !== 'nourl-dev') {
    out(`\u2514\u2500\u2500 \ud83d\udd28 Created web function web => ${green(url)}`)
  }
  out(`${green('\u2713')} App deployed in 3.210s! \ud83c\udf89`)
  out('')
  const env = mode === 'nourl-dev' ? 'dev' : 'main'
  out(`View Deployment: https://modal.com/apps/my-long-workspace-name/${env}/deployed/${app}`)
}

if (mode === 'slow') {
  out('Building image im-slow')
  setTimeout(() => process.exit(0), 60_000)
} else deploy()
