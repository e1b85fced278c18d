// The ComfyUI frontend's own modules, served by ComfyUI and kept external by esbuild (scripts/build.mjs).
import type { ComfyApi, ComfyApp } from '@comfyorg/comfyui-frontend-types'
// @ts-expect-error served by ComfyUI at runtime; there is no module on disk
import { api as rawApi } from '/scripts/api.js'
// @ts-expect-error served by ComfyUI at runtime; there is no module on disk
import { app as rawApp } from '/scripts/app.js'

export const app: ComfyApp = rawApp
export const api: ComfyApi = rawApi
