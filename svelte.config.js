// Svelte 5 with TypeScript in components (vitePreprocess strips the types).
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default { preprocess: vitePreprocess() };
