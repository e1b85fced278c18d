/**
 * Torch presets: which torch/torchvision/torchaudio (and xformers) the image installs, from which
 * index, and whether they are re-pinned after every later pip install (the original's habit, so a
 * custom requirement cannot silently swap the CUDA build).
 */
export interface TorchPreset {
  readonly id: string
  readonly description: string
  /** pip requirements, installed first and re-pinned after every later install. */
  readonly packages: readonly string[]
  /** Installed with `--no-deps` after the packages (xformers in the original preset). */
  readonly noDepsPackages: readonly string[]
  readonly indexUrl: string | null
  readonly forceReinstall: boolean
}

export const TORCH_PRESETS = {
  /** Matches the default pinned ComfyUI (v0.3.64 asks for a current stable torch with CUDA 12.8). */
  cu128: {
    id: 'cu128',
    description:
      'torch 2.8.0 / torchvision 0.23.0 / torchaudio 2.8.0, CUDA 12.8 (default; matches ComfyUI v0.3.64)',
    packages: ['torch==2.8.0', 'torchvision==0.23.0', 'torchaudio==2.8.0'],
    noDepsPackages: [],
    indexUrl: 'https://download.pytorch.org/whl/cu128',
    forceReinstall: false,
  },
  /** The original implementation's pins (old ComfyUI releases only). */
  'cu121-legacy': {
    id: 'cu121-legacy',
    description:
      'torch 2.3.0 / torchvision 0.18.0 / torchaudio 2.3.0, CUDA 12.1, xformers 0.0.26.post1 --no-deps (the original pins)',
    packages: ['torch==2.3.0', 'torchvision==0.18.0', 'torchaudio==2.3.0'],
    noDepsPackages: ['xformers==0.0.26.post1'],
    indexUrl: 'https://download.pytorch.org/whl/cu121',
    forceReinstall: true,
  },
  /** Whatever ComfyUI's requirements.txt resolves to; no re-pinning. */
  none: {
    id: 'none',
    description: "no pins: whatever ComfyUI's requirements.txt installs",
    packages: [],
    noDepsPackages: [],
    indexUrl: null,
    forceReinstall: false,
  },
} as const satisfies Record<string, TorchPreset>

export type TorchPresetId = keyof typeof TORCH_PRESETS
export const TORCH_PRESET_IDS = Object.keys(TORCH_PRESETS) as TorchPresetId[]

export const DEFAULTS = {
  gpu: 'H100',
  comfyuiRepo: 'https://github.com/comfyanonymous/ComfyUI.git',
  comfyuiRef: 'v0.3.64',
  torchPreset: 'cu128' as TorchPresetId,
  pythonVersion: '3.11',
  jobTimeoutSeconds: 3600,
  startupTimeoutSeconds: 900,
  waitMaxSeconds: 120,
  minContainers: 0,
  maxContainers: 1,
  scaledownWindowSeconds: 300,
  maxRequestBytes: 256 * 1024 * 1024,
  authMode: 'token' as const,
  tokenEnv: 'COMFY_REMOTE_TOKEN',
} as const
