// The exact LP solver of the kernels' host: HiGHS (MIT; University of Edinburgh), compiled to WebAssembly by the
// `highs` package. It is loaded on first use, once per thread (its module is 3.5 MB), and runs its interior-point
// method, then crossover to a vertex: the split's least objective is one number, but the splits that reach it are
// rarely one point, and the interior point lies inside that set, where most terms are small but not zero (1235 of the
// 2048 terms of the MLP at n = 10, against 50 at the vertex, with the same objective 17.9121). Chosen over
// javascript-lp-solver (dense simplex in JS) and glpk.js (GPL): HiGHS solves the split's LP at n = 10 (15 360
// columns) in about 2 s, where a dense simplex of the same LP took a minute.
import { KernelTrapError } from '../engine/contracts/errors.js';
import type { LinearProgram, LinearSolution, LinearSolver } from '../engine/contracts/kernels.js';
import type { Highs } from 'highs';

/** The package's loader. Its types are read as CommonJS (the package says "type": "commonjs"), where `default` would
 *  be the module; under Node's "import" condition it is highs.mjs, whose default export is the loader itself. */
type Loader = (options?: object) => Promise<Highs>;

let loading: Promise<LinearSolver> | undefined;

/** The thread's LP solver; concurrent first calls share one load, and a failed load is tried again next time. */
export function linearSolver(): Promise<LinearSolver> {
  loading ??= load().catch((cause: unknown) => {
    loading = undefined;
    throw new KernelTrapError(`Cannot load the LP solver (the highs package): ${cause instanceof Error ? cause.message : String(cause)}. Reinstall the package's dependencies (npm ci).`, { cause });
  });
  return loading;
}

async function load(): Promise<LinearSolver> {
  const highs = await ((await import('highs')) as unknown as { default: Loader }).default();
  const statusName = new Map(Object.entries(highs.constants.modelStatus).map(([name, code]) => [code as number, name.replace(/([A-Z])/g, ' $1').toLowerCase()]));
  return {
    solve(program: LinearProgram, timeLimitS: number): LinearSolution {
      const infinity = highs.infinity;
      const bound = (x: Float64Array) => Float64Array.from(x, (b) => (b === Infinity ? infinity : b === -Infinity ? -infinity : b));
      const model = highs.createModel({
        numCols: program.numCols,
        numRows: program.numRows,
        colCost: program.colCost,
        colLower: bound(program.colLower),
        colUpper: bound(program.colUpper),
        rowLower: bound(program.rowLower),
        rowUpper: bound(program.rowUpper),
        matrix: { format: 'csr', numCols: program.numCols, numRows: program.numRows, starts: program.starts, indices: program.indices, values: program.values },
      });
      try {
        model.options.set({ solver: 'ipm', run_crossover: 'on', time_limit: timeLimitS, output_flag: false });
        const { modelStatus } = model.run();
        const status = modelStatus === highs.constants.modelStatus.optimal ? 'optimal' : (statusName.get(modelStatus) ?? `status ${modelStatus}`);
        return { status, colValue: model.getSolution().colValue };
      } catch (cause) {
        throw new KernelTrapError(`The LP solver failed: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
      } finally {
        model.dispose();
      }
    },
  };
}
