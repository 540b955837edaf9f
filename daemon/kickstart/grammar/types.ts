// Shapes of the command-syntax table (grammar/table.ts).

/** How an option stores its value, as in argparse: store a value, set true/false/a constant, or append. */
export type OptionKind = "store" | "true" | "false" | "const" | "appendConst" | "append" | "extend";

/** Value conversion: integer, comma-separated list, kickstart boolean (on/off/yes/no/...), mount point. */
export type OptionType = "int" | "comma" | "bool" | "mountpoint" | "str";

export interface OptionSpec {
  /** Option strings ("--size", "--type"); empty for a positional argument. */
  f: string[];
  /** Destination key in the parsed namespace. */
  d: string;
  k: OptionKind;
  t?: OptionType;
  /** argparse nargs: "?", "*", "+", or a count. */
  n?: string | number;
  /** Constant stored by true/false/const/appendConst options. */
  c?: unknown;
  df?: unknown;
  ch?: string[];
  r?: boolean;
  /** Deprecated: accepted with a warning. */
  dep?: boolean;
}

export type CommandSpec =
  | { status: "removed" }
  | { status: "deprecated" }
  | { status?: undefined; prio: number | null; list: boolean; opts: OptionSpec[] };
