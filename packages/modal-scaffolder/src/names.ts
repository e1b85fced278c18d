import { invalidOption } from './errors.js'

/**
 * Validators for every string that ends up in generated Python, in a shell command inside the
 * image, or in a file path. They are allow-lists: a value either matches or is refused with a
 * message naming the field. Values are additionally rendered as Python literals (py-literal.ts),
 * so these checks are a second wall, not the only one.
 */

/** Modal: alphanumerics, dashes, periods, underscores; shorter than 64 characters. */
export const APP_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
/*
 * pip requirements (PEP 508 subset). Decision (issue 14): characters a shell gives meaning to are
 * accepted only where PEP 508 gives them one - comparison operators (`<`, `>`, `!`) in a version
 * specifier, `#`, `&` and `%` in the URL of a direct reference (`name @ git+https://...#subdirectory=x`)
 * or a bare VCS/archive URL. Everything else a shell reads (`;`, `|`, `$`, backquotes, quotes,
 * backslashes, parentheses, spaces, newlines, globs) is refused, and so are options (`--index-url`),
 * environment markers and non-https URLs. VCS specs over https are legitimate and accepted. The
 * generated image never hands these strings to a shell: they reach `Image.pip_install(*PIP_PACKAGES)`
 * as a Python list literal, and Modal writes each one `shlex`-quoted (test/pip-specs.test.ts).
 */
const PIP_NAME = String.raw`[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?(?:\[[A-Za-z0-9._-]{1,50}(?:,[A-Za-z0-9._-]{1,50}){0,19}\])?`
const PIP_CLAUSE = String.raw`(?:===|==|!=|~=|<=|>=|<|>)[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}(?:\.\*)?`
const PIP_URL = String.raw`(?:git\+)?https://[A-Za-z0-9][A-Za-z0-9\-._~:/@%+=]{0,299}(?:#[A-Za-z0-9\-._~/=&%]{1,200})?`
/** A pip requirement: `name[extras]<specifiers>`, `name @ <https or git+https URL>`, or such a URL. */
export const PIP_PACKAGE_RE = new RegExp(
  `^(?:${PIP_NAME}(?:${PIP_CLAUSE}(?:,${PIP_CLAUSE}){0,9})?|${PIP_NAME} ?@ ?${PIP_URL}|${PIP_URL})$`,
)
/** A Debian package name, optionally `=version`. */
export const APT_PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]{0,99}(=[A-Za-z0-9.+~:-]{1,80})?$/
/** A Modal GPU string: `H100`, `A100-80GB`, `H100!`, `L40S:2`, `any`. */
export const GPU_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}!?(:[1-9])?$/
/** A git ref: tag, branch or commit sha. */
export const GIT_REF_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/
/** An https git URL. */
export const GIT_URL_RE = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/[A-Za-z0-9._~/-]{1,200}$/
/** A Modal Secret name. */
export const SECRET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/**
 * App name of a scaffolded project: at most 59 characters, so the Dict `<app>-jobs` and the Secret
 * `<app>-auth` stay within Modal's 64-character object names (modal/_utils/name_utils.py).
 */
export const PROJECT_APP_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,58}$/

/** `project`: the stricter limit of a name we scaffold (PROJECT_APP_NAME_RE); else any Modal app name. */
export function checkAppName(value: unknown, field = 'appName', project = false): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidOption(field, 'is required; use letters, digits, "-", "_" or "." (e.g. "my-comfy-app").')
  const name = value.trim()
  const max = project ? 59 : 63
  if (!(project ? PROJECT_APP_NAME_RE : APP_NAME_RE).test(name) || name.includes('..'))
    throw invalidOption(
      field,
      `${JSON.stringify(name)} is not a valid Modal app name; use 1-${max} letters, digits, "-", "_" or ".", starting with a letter or digit (e.g. "my-comfy-app")${project ? '; the project adds "-jobs" and "-auth" to it for its Dict and Secret, which Modal limits to 64 characters' : ''}.`,
    )
  return name
}

/** Accepts a list or a comma/newline separated string (the node's widget form); blanks dropped. */
export function splitList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return []
  const items = typeof value === 'string' ? value.split(/[,\n\r]+/) : Array.isArray(value) ? value : null
  if (items === null)
    throw invalidOption(field, 'must be a list of strings or a comma/newline separated string.')
  const out: string[] = []
  for (const item of items) {
    if (typeof item !== 'string')
      throw invalidOption(field, `every entry must be a string, got ${typeof item}.`)
    const trimmed = item.trim()
    if (trimmed !== '') out.push(trimmed)
  }
  return out
}

export function checkPipPackages(value: unknown, field = 'pipPackages'): string[] {
  return splitList(value, field).map((p) => {
    if (!PIP_PACKAGE_RE.test(p))
      throw invalidOption(
        field,
        `${JSON.stringify(p)} is not an accepted pip requirement; write one requirement per entry without spaces, quotes or shell characters (e.g. "opencv-python-headless==4.10.0.84").`,
      )
    return p
  })
}

export function checkAptPackages(value: unknown, field = 'aptPackages'): string[] {
  return splitList(value, field).map((p) => {
    if (!APT_PACKAGE_RE.test(p))
      throw invalidOption(
        field,
        `${JSON.stringify(p)} is not a Debian package name; use lowercase names like "libgl1" or "ffmpeg=7:5.1.6-0+deb12u1".`,
      )
    return p
  })
}

export function checkGpu(value: unknown, field = 'gpu'): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
    return 'H100'
  if (typeof value !== 'string' || !GPU_RE.test(value.trim()))
    throw invalidOption(
      field,
      `${JSON.stringify(value)} is not a Modal GPU type; use e.g. "H100", "A100-80GB", "L40S", "A10G" or "H100:2".`,
    )
  return value.trim()
}

export function checkPattern(value: string, re: RegExp, field: string, example: string): string {
  if (!re.test(value))
    throw invalidOption(
      field,
      `${JSON.stringify(value)} is not accepted; expected something like ${example}.`,
    )
  return value
}
