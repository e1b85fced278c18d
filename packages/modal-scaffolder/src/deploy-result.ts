import { parseDeployOutput } from './deploy-url.js'
import { ModalScaffolderError } from './errors.js'
import { tail } from './modal-cli.js'

/** URL of a successful deploy, or DEPLOY_URL_NOT_FOUND with the output tail. */
export function deployUrlsOrThrow(output: string): { url: string; dashboardUrl?: string } {
  const { url, dashboardUrl } = parseDeployOutput(output)
  if (!url)
    throw new ModalScaffolderError(
      'DEPLOY_URL_NOT_FOUND',
      `modal deploy succeeded but printed no web endpoint URL; open ${dashboardUrl ?? 'the Modal dashboard'} to find it, and report the output.`,
      { details: { output: tail(output) } },
    )
  return dashboardUrl ? { url, dashboardUrl } : { url }
}
