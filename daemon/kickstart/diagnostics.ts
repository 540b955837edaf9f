// Errors and warnings found while parsing, each at the FILE:LINE it is about.

export type Severity = "error" | "warning";

export interface Diagnostic {
  file: string;
  line: number;
  severity: Severity;
  message: string;
}

/** "FILE:LINE: error|warning: message" — the format `imgcreate ks check` prints. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.severity}: ${d.message}`;
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === "error");
}

export class DiagnosticSink {
  readonly list: Diagnostic[] = [];

  error(file: string, line: number, message: string): void {
    this.list.push({ file, line, severity: "error", message });
  }

  warning(file: string, line: number, message: string): void {
    this.list.push({ file, line, severity: "warning", message });
  }
}
