// Module boundaries of andor (style.md §1). `npm run check` fails on any violation.
// engine/ is layered; a folder may import only from the folders before it in LAYERS (and from itself):
//   contracts → inputs → analysis → pipeline → explain → studies → distributed → api → report → interfaces
// engine/index.ts (the public entry and composition root) may import any layer but interfaces, which sit on top of it.
const LAYERS = ['contracts', 'inputs', 'analysis', 'pipeline', 'explain', 'studies', 'distributed', 'api', 'report', 'interfaces'];

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `engine/${layer}/ may import only ${LAYERS.slice(0, i + 1).join(', ')}`,
  severity: 'error',
  from: { path: `^engine/${layer}/` },
  to: { path: `^engine/(${['index\\.ts$', ...LAYERS.slice(i + 1).map((l) => `${l}/`)].join('|')})` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'contracts-import-nothing',
      comment: 'engine/contracts/ holds interfaces, schemas and errors only',
      severity: 'error',
      from: { path: '^engine/contracts/' },
      to: { path: '^(engine|bindings|assembly|test|bench|models)/', pathNot: '^engine/contracts/' },
    },
    {
      name: 'entry-not-interfaces',
      comment: 'the library entry must not pull in the CLI or the HTTP service',
      severity: 'error',
      from: { path: '^engine/index\\.ts$' },
      to: { path: '^engine/interfaces/' },
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
      comment: 'engine/ reaches bindings/ only through bindings/index.ts, from engine/index.ts and engine/pipeline/worker.ts',
      severity: 'error',
      from: { path: '^engine/', pathNot: '^engine/(index|pipeline/worker)\\.ts$' },
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
