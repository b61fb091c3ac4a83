// Bundles the browser client into dist/: index.html plus assets/app.js and assets/app.css.
// `node build.mjs --watch` rebuilds on change (for development against a local server).
import * as esbuild from 'esbuild'
import { mkdir, copyFile, rm } from 'node:fs/promises'

const watch = process.argv.includes('--watch')
const options = {
  entryPoints: { app: 'src/main.ts' },
  bundle: true,
  format: 'esm',
  target: 'es2020',
  outdir: 'dist/assets',
  minify: !watch,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'info',
}

await rm('dist', { recursive: true, force: true })
await mkdir('dist/assets', { recursive: true })
await copyFile('index.html', 'dist/index.html')
await copyFile('favicon.svg', 'dist/assets/favicon.svg')
if (watch) {
  const ctx = await esbuild.context(options)
  await ctx.watch()
} else {
  await esbuild.build(options)
}
