// The kickstart parser's public API: parse (with includes), collect the files a parse reads,
// flatten back to text, versions, diagnostics and the typed model.

export * from "./model.js";
export { parseKickstart, type ParseOptions, type ParseResult } from "./parser.js";
export { collectIncludes, mapReader } from "./collect.js";
export { flatten } from "./flatten.js";
export { formatDiagnostic, hasErrors, type Diagnostic, type Severity } from "./diagnostics.js";
export { versions, DEFAULT_VERSION, normalizeVersion, type KickstartVersion } from "./versions.js";
export type { ReadFile } from "./reader.js";
export { requestFromKickstart, type PackageRequest, type Spec, type ModuleSpec } from "./request.js";
export { chooseBackend, type BackendName, type BackendChoice, type BackendConflict } from "./backend-choice.js";
export { transactionPlan, formatPlan, type TransactionPlan, type PlannedRepo } from "./plan.js";
