// Named tokenizer sizes, free of tfjs so spec validators (host side) can list and check them.
// Sized for 16–64 px images on the wasm backend.

export interface TokenizerPresetShape {
  f: 2 | 4 | 8;
  K: number;
  D: number;
  widths: number[];
  resBlocks: number[];
  norm: 'group' | 'none';
  groups: number;
  act: 'silu' | 'relu';
  upsample: 'nearest' | 'transpose';
  codebookNorm: 'l2' | 'none';
  betaCommit: number;
}

const base = { norm: 'group', groups: 8, act: 'silu', upsample: 'nearest', codebookNorm: 'l2', betaCommit: 0.25 } as const;

export const TOKENIZER_PRESETS: Record<string, TokenizerPresetShape> = {
  'vq-f4-k64': { ...base, f: 4, K: 64, D: 16, widths: [16, 32, 64], resBlocks: [0, 1, 1] },
  'vq-f4-k256': { ...base, f: 4, K: 256, D: 16, widths: [16, 32, 64], resBlocks: [0, 1, 1] },
  'vq-f4-k1024': { ...base, f: 4, K: 1024, D: 16, widths: [16, 32, 64], resBlocks: [0, 1, 1] },
  'vq-f2-k64': { ...base, f: 2, K: 64, D: 16, widths: [16, 32], resBlocks: [0, 1] },
  'vq-f2-k256': { ...base, f: 2, K: 256, D: 16, widths: [16, 32], resBlocks: [0, 1] },
  'vq-f2-k1024': { ...base, f: 2, K: 1024, D: 16, widths: [16, 32], resBlocks: [0, 1] },
  'vq-f2w-k64': { ...base, f: 2, K: 64, D: 16, widths: [32, 64], resBlocks: [0, 1] },
  'vq-f2w-k256': { ...base, f: 2, K: 256, D: 16, widths: [32, 64], resBlocks: [0, 1] },
  'vq-f2w-k1024': { ...base, f: 2, K: 1024, D: 16, widths: [32, 64], resBlocks: [0, 1] },
  'vq-f8-k256': { ...base, f: 8, K: 256, D: 16, widths: [16, 32, 64, 64], resBlocks: [0, 0, 1, 1] },
};

export const TOKENIZER_PRESET_NAMES = Object.keys(TOKENIZER_PRESETS);
