import { parseDeployOutput } from './deploy-url.js'
import { ModalScaffolderError } from './errors.js'
import { tail } from './modal-cli.js'

/**
 * The endpoint a deploy would have printed, derived from the dashboard link
 * (`https://modal.com/apps/<workspace>/main/deployed/<app>`) as `https://<workspace>--<app>-web.modal.run`.
 * Only for the default environment `main` and host labels Modal does not truncate (63 characters);
 * anything else is undefined.
 */
export function deriveWebUrl(dashboardUrl: string | undefined, appName: string): string | undefined {
  const m = /^https:\/\/modal\.com\/apps\/([a-z0-9-]+)\/main\/deployed\/([^/\s]+)$/.exec(dashboardUrl ?? '')
  if (!m || m[2] !== appName) return undefined
  const host = `${m[1]}--${appName}-web`.toLowerCase().replace(/[^a-z0-9-]/g, '-')
  if (host.length > 63) return undefined // Modal truncates it and adds a hash we cannot know
  return `https://${host}.modal.run`
}

/**
 * URL of a successful deploy, or DEPLOY_URL_NOT_FOUND with the output tail. When the CLI printed
 * no `Created web function ... => <url>` line but a dashboard link, the URL is derived from it
 * (`derived: true`) for an app of the default environment.
 */
export function deployUrlsOrThrow(
  output: string,
  appName?: string,
): { url: string; dashboardUrl?: string; derived?: boolean } {
  const { url, dashboardUrl } = parseDeployOutput(output)
  const derived = url === undefined && appName !== undefined ? deriveWebUrl(dashboardUrl, appName) : undefined
  const found = url ?? derived
  if (!found)
    throw new ModalScaffolderError(
      'DEPLOY_URL_NOT_FOUND',
      `modal deploy succeeded but printed no web endpoint URL; open ${dashboardUrl ?? 'the Modal dashboard'} to find it, and report the output.`,
      { details: { output: tail(output) } },
    )
  return {
    url: found,
    ...(dashboardUrl ? { dashboardUrl } : {}),
    ...(derived !== undefined ? { derived: true } : {}),
  }
}
