// Starts the processes most suites share, once per run (2 cores are shared by many test files):
// a fake ComfyUI, and for each example a mock worker with the echo engine and one with the comfyui
// engine in front of that fake ComfyUI. Test files read the URLs with inject('workers').
import type { TestProject } from 'vitest/node'
import { exampleFile, exampleNames } from '../support/paths.js'
import { bins, startServer, stopAll } from '../support/processes.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const workers: Record<string, string> = {}
    workers.fake = (await startServer(bins.fakeComfy, ['--port', '0'])).url
    await Promise.all(
      exampleNames.flatMap((name) =>
        (['echo', 'comfyui'] as const).map(async (engine) => {
          // The README's command with a shorter step delay: the same envelopes, faster.
          const args = [
            '--workflow',
            exampleFile(name, 'prompt.json'),
            '--port',
            '0',
            '--step-ms',
            '10',
            '--engine',
            engine,
          ]
          if (engine === 'comfyui') args.push('--comfyui-url', workers.fake!)
          // original-callers.test.ts sends the original's base64+pickle values: the echo workers opt in
          // (pass them on undecoded); by default a worker refuses them (tests/contract checks that)
          else args.push('--allow-pickle')
          workers[`${engine}/${name}`] = (await startServer(bins.mockWorker, args)).url
        }),
      ),
    )
    project.provide('workers', workers)
  } catch (error) {
    await stopAll()
    throw error
  }
  return stopAll
}

declare module 'vitest' {
  export interface ProvidedContext {
    workers: Record<string, string>
  }
}
