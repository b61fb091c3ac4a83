// Lets TypeScript accept `import './x.css'`; esbuild bundles it into app.css.
declare module '*.css'
