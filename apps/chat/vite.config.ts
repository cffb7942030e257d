import { fileURLToPath } from 'node:url'
import preact from '@preact/preset-vite'
import { defineConfig } from 'vite'

// The page bundles the engine's browser assembly (`@tandem/engine` under the `browser`
// condition, which Vite uses for client builds). Run from the repository root by `npm run build`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // Preact: React's component model in 4 KB; the preset compiles JSX for it
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // libp2p and Yjs make one ~1 MB chunk; splitting it buys a page this small nothing
    chunkSizeWarningLimit: 2048
  }
})
