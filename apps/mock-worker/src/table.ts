import type { WorkflowContract } from './workflow.js'

function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** The workflow's inputs and outputs as two plain-text tables (printed by the CLI at start). */
export function formatContract(contract: WorkflowContract): string {
  const inputs =
    contract.inputs.length === 0
      ? 'Inputs: (none)'
      : `Inputs:\n${renderTable(
          ['name', 'type', 'required', 'default', 'node'],
          contract.inputs.map((i) => [
            i.name,
            i.type,
            i.required ? 'yes' : 'no',
            i.default === undefined ? '' : JSON.stringify(i.default).slice(0, 40),
            i.source === 'app' ? `${i.nodeId} ${i.input} (App Mode)` : i.nodeId,
          ]),
        )}`
  const outputs = `Outputs:\n${renderTable(
    ['name', 'type', 'node'],
    contract.outputs.map((o) => [o.name, o.type, o.source === 'app' ? `${o.nodeId} (App Mode)` : o.nodeId]),
  )}`
  return `${inputs}\n\n${outputs}`
}
