// Kickstart syntax versions: which commands exist in each, and how a version is named.

import { COMMAND_CLASSES, VERSION_COMMANDS } from "./grammar/table.js";
import type { CommandSpec } from "./grammar/types.js";

/** The versions this parser knows, newest first. DEVEL is current Fedora (pykickstart's F45). */
export const versions = ["DEVEL", "RHEL10", "RHEL9", "RHEL8", "RHEL7"] as const;
export type KickstartVersion = (typeof versions)[number];
export const DEFAULT_VERSION: KickstartVersion = "DEVEL";

/** Accepts "rhel9", "RHEL9", "Red Hat Enterprise Linux 9", "devel"; undefined when unknown. */
export function normalizeVersion(v: string): KickstartVersion | undefined {
  const s = v.trim().toUpperCase();
  if ((versions as readonly string[]).includes(s)) return s as KickstartVersion;
  const m = /^RED HAT ENTERPRISE LINUX.* (\d+)([.\d]*)$/.exec(s);
  if (m && (versions as readonly string[]).includes(`RHEL${m[1]}`)) return `RHEL${m[1]}` as KickstartVersion;
  return undefined;
}

export function unsupportedVersionMessage(v: string): string {
  return `unsupported kickstart version '${v}'; use one of ${versions.join(", ")}`;
}

export interface CommandInfo {
  /** The word as written ("part", "partition", "shutdown"). */
  name: string;
  /** The command class it maps to; aliases share one ("part"/"partition", "reboot"/"shutdown"). */
  className: string;
  /** Stable key for the class without its version prefix, lowercased ("partition", "reboot"). */
  key: string;
  spec: CommandSpec;
}

export function lookupCommand(version: KickstartVersion, name: string): CommandInfo | undefined {
  const className = VERSION_COMMANDS[version]?.[name];
  if (className === undefined) return undefined;
  const spec = COMMAND_CLASSES[className];
  if (spec === undefined) return undefined;
  return { name, className, key: classKey(className), spec };
}

export function classKey(className: string): string {
  const i = className.indexOf("_");
  return (i >= 0 ? className.slice(i + 1) : className).toLowerCase();
}

export function commandNames(version: KickstartVersion): string[] {
  return Object.keys(VERSION_COMMANDS[version] ?? {});
}
