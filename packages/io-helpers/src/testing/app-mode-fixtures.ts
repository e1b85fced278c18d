import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { UiWorkflow } from '../ui-graph.js'

/** The App Mode workflows shipped with this package (`fixtures/app-mode/`, see its README). */
export type AppModeFixture = 'invert-node-ids' | 'invert-widget-ids' | 'subgraph-promoted'

/** Absolute path of an App Mode fixture workflow (UI format with `extra.linearData`). */
export function appModeFixturePath(name: AppModeFixture): string {
  // Same depth from src/testing and dist/testing.
  return fileURLToPath(new URL(`../../fixtures/app-mode/${name}.json`, import.meta.url))
}

/** A fresh copy of an App Mode fixture workflow. */
export function appModeFixture(name: AppModeFixture): UiWorkflow {
  return JSON.parse(readFileSync(appModeFixturePath(name), 'utf8')) as UiWorkflow
}
