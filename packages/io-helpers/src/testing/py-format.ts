/** Python `str()` / `repr()` of JSON-like values, for error messages that must read like ComfyUI's. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string')
    return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/'/g, "\\'")}'`
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`
  }
  return pyStr(value)
}

export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return pyRepr(value)
}

function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType'
  if (Array.isArray(value)) return 'list'
  if (typeof value === 'object') return 'dict'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float'
  return 'str'
}

/** Python `int(value)` / `float(value)`; throws an Error with Python's message. */
export function pyConvert(type: 'INT' | 'FLOAT', value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number') return type === 'INT' ? Math.trunc(value) : value
  if (typeof value === 'string') {
    const text = value.trim()
    if (type === 'INT' && /^[-+]?\d+$/.test(text)) return Number.parseInt(text, 10)
    if (type === 'FLOAT' && text !== '' && !Number.isNaN(Number(text))) return Number(text)
    throw new Error(
      type === 'INT'
        ? `invalid literal for int() with base 10: ${pyRepr(value)}`
        : `could not convert string to float: ${pyRepr(value)}`,
    )
  }
  const fn = type === 'INT' ? 'int' : 'float'
  throw new Error(`${fn}() argument must be a string or a real number, not '${pyTypeName(value)}'`)
}
