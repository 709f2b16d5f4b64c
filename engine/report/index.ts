// The reports' entry: renderReport turns any saved JSON result (andor.explain/1, andor.sparse/1, andor.batch/1,
// andor.dynamics/1) into a self-contained HTML page, and chartsOf gives the same charts as standalone SVG documents.
// Dispatch on the `schema` field only; the per-schema pages live in explain-report.ts, sparse-report.ts,
// batch-report.ts and dynamics-report.ts.
import type { DynamicsResultJson, ExplainResultJson, SparseResultJson } from '../api/result.js';
import { InvalidInputError } from '../contracts/errors.js';
import { BATCH_SCHEMA, DYNAMICS_SCHEMA, RESULT_SCHEMA, SPARSE_SCHEMA } from '../contracts/schema/constants.js';
import type { BatchResultJson } from '../api/result.js';
import { batchSections, batchTitle } from './batch-report.js';
import { dynamicsSections, dynamicsTitle } from './dynamics-report.js';
import { explainSections, explainTitle } from './explain-report.js';
import { sparseSections, sparseTitle } from './sparse-report.js';
import { assertReportable, type ReportableResult } from './check.js';
import { page, type Section } from './page.js';
import type { Chart } from './svg.js';

/** A chart: id, title, standalone SVG and an optional note. */
export type { Chart } from './svg.js';

/** Any result a report can be rendered from. */
export type { ReportableResult } from './check.js';

const SCHEMAS = [RESULT_SCHEMA, BATCH_SCHEMA, DYNAMICS_SCHEMA, SPARSE_SCHEMA] as const;

function sectionsOf(result: ReportableResult): { title: string; sections: Section[] } {
  const schema = (result as { schema?: unknown } | null)?.schema;
  // every result is checked before a page is built from it: a library caller's edited result put a string of markup
  // where a number goes (sample.row "<img onerror=…>": a live element on the page; an adversarial sweep, stop 45)
  if (typeof schema === 'string' && (SCHEMAS as readonly string[]).includes(schema)) assertReportable(result, 'The result');
  switch (schema) {
    case RESULT_SCHEMA: return { title: explainTitle(result as ExplainResultJson), sections: explainSections(result as ExplainResultJson) };
    case SPARSE_SCHEMA: return { title: sparseTitle(result as SparseResultJson), sections: sparseSections(result as SparseResultJson) };
    case BATCH_SCHEMA: return { title: batchTitle(result as BatchResultJson), sections: batchSections(result as BatchResultJson) };
    case DYNAMICS_SCHEMA: return { title: dynamicsTitle(result as DynamicsResultJson), sections: dynamicsSections(result as DynamicsResultJson) };
    default:
      throw new InvalidInputError(`Cannot render a report: the result's "schema" is ${schema === undefined ? 'missing' : JSON.stringify(schema)}. Expected one of: ${SCHEMAS.join(', ')}.`);
  }
}

/**
 * Renders a saved or live result (its JSON form: resultToJson, dynamicsToJson, or a batch result) as one
 * self-contained HTML page: inline SVG and CSS, one inline script for the "save SVG" links, nothing fetched.
 * @param result - an andor.explain/1, andor.sparse/1, andor.batch/1 or andor.dynamics/1 result (as parsed from JSON)
 * @returns the HTML document
 * @throws InvalidInputError when `schema` is missing or not one of those ids, or a field is not what andor writes
 *   (assertReportable: its type, a count that disagrees with n, a player beyond n)
 */
export function renderReport(result: ReportableResult): string {
  const { title, sections } = sectionsOf(result);
  return page(title, sections);
}

/**
 * The charts of a result's report, each as a standalone SVG document (for saving or embedding).
 * @param result - as for renderReport
 * @returns id (the chart's data-chart), title and SVG of every chart, in page order
 * @throws InvalidInputError when `schema` is missing or unknown
 */
export function chartsOf(result: ReportableResult): { id: string; title: string; svg: string }[] {
  return sectionsOf(result).sections.flatMap((s) => s.charts.map((c: Chart) => ({ id: c.id, title: c.title, svg: c.svg })));
}
