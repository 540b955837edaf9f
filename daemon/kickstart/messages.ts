// Message texts shared with pykickstart, word for word, so tools comparing warnings keep working.

export function deprecatedOptionText(line: number, option: string): string {
  return (
    `Ignoring deprecated option on line ${line}: The ${option} option has been deprecated and no longer has any ` +
    "effect. It may be removed from future releases, which will result in a fatal error from kickstart. " +
    "Please modify your kickstart file to remove this option."
  );
}

export function deprecatedCommandText(line: number, cmd: string): string {
  return (
    `Ignoring deprecated command on line ${line}:  The ${cmd} command has been deprecated and no longer has any ` +
    "effect.  It may be removed from future releases, which will result in a fatal error from kickstart.  " +
    "Please modify your kickstart file to remove this command."
  );
}

/** What to use instead of a removed command, where there is an obvious answer. */
const REPLACEMENTS: Record<string, string> = {
  auth: "use authselect instead",
  authconfig: "use authselect instead",
  install: "remove it (installation is the default)",
  method: "use url, nfs, cdrom or harddrive instead",
  module: "use @module:stream/profile lines in %packages instead",
  vnc: "use rdp instead",
  device: "remove it (devices are probed automatically)",
  deviceprobe: "remove it",
  autostep: "remove it",
  dmraid: "remove it",
  multipath: "remove it",
  upgrade: "remove it",
};

export function removedCommandText(cmd: string): string {
  const hint = REPLACEMENTS[cmd];
  return `${cmd} has been removed.` + (hint ? ` In this kickstart version, ${hint}.` : " Remove it from the file.");
}
