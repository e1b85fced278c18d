import { z } from 'zod'
import { zEncodedValue, zErrorBody, zJobEnvelopeWire, zRunRequestWire, zWorkflowSchema } from './schemas.js'

/** The wire schemas exported as JSON Schema files (schema/<name>.json in the package). */
export const JSON_SCHEMA_SOURCES = {
  'encoded-value': zEncodedValue,
  'run-request': zRunRequestWire,
  'job-envelope': zJobEnvelopeWire,
  'workflow-schema': zWorkflowSchema,
  'error-body': zErrorBody,
} as const

export type JsonSchemaName = keyof typeof JSON_SCHEMA_SOURCES

/** JSON Schema (draft 2020-12) of every wire schema, keyed by file name without `.json`. */
export function toJsonSchemas(): Record<JsonSchemaName, Record<string, unknown>> {
  const out = {} as Record<JsonSchemaName, Record<string, unknown>>
  for (const [name, schema] of Object.entries(JSON_SCHEMA_SOURCES) as [JsonSchemaName, z.ZodType][]) {
    out[name] = {
      $id: `urn:comfy-remote:protocol:v1:${name}`,
      title: name,
      ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
    }
  }
  return out
}
