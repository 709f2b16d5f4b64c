// Module boundaries of andor (style.md §1). `npm run check` fails on any violation.
module.exports = {
  forbidden: [
    {
      name: 'contracts-import-nothing',
      comment: 'engine/contracts/ holds interfaces and errors only',
      severity: 'error',
      from: { path: '^engine/contracts/' },
      to: { pathNot: '^engine/contracts/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'runtime-only-in-bindings',
      comment: 'only bindings/ may import onnxruntime-*',
      severity: 'error',
      from: { pathNot: '^bindings/' },
      to: { path: 'onnxruntime-' },
    },
    {
      name: 'bindings-only-from-composition-roots',
      comment: 'engine/ reaches bindings/ only through bindings/index.ts, from engine/index.ts and engine/worker.ts',
      severity: 'error',
      from: { path: '^engine/', pathNot: '^engine/(index|worker)\\.ts$' },
      to: { path: '^bindings/' },
    },
    {
      name: 'no-deep-bindings',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: '^bindings/', pathNot: '^bindings/index\\.ts$' },
    },
    {
      name: 'bindings-see-only-contracts',
      comment: 'bindings/ implements contracts; it must not reach into the rest of engine/',
      severity: 'error',
      from: { path: '^bindings/' },
      to: { path: '^engine/', pathNot: '^engine/contracts/' },
    },
    {
      name: 'no-assembly-from-ts',
      severity: 'error',
      from: { path: '^(engine|bindings)/' },
      to: { path: '^assembly/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
