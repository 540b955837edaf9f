// Errors that carry their meaning across every layer. Each layer throws ImgcreateError with a stable
// code; the transports map the code to a D-Bus error name / JSON-RPC code, the CLI to an exit code.
// The message is for a person: it says what went wrong and what to change.

export type ErrorCode =
  | "NotAuthorized"
  | "NotOwner"
  | "InvalidState"
  | "InvalidArgs"
  | "Cancelled"
  | "Failed"
  | "Busy";

export class ImgcreateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable detail (a tool's exit status, FILE:LINE, ...). Never a stack trace. */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ImgcreateError";
  }
}

/** Turns anything thrown into an ImgcreateError, keeping the message but never the stack. */
export function asImgcreateError(err: unknown): ImgcreateError {
  if (err instanceof ImgcreateError) return err;
  if (err instanceof Error && err.name === "AbortError") return new ImgcreateError("Cancelled", "cancelled");
  const msg = err instanceof Error ? err.message : String(err);
  return new ImgcreateError("Failed", msg);
}
