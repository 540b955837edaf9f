// Every command and option of every supported version parses, and survives flatten and a re-parse.
// The lines are generated from the version's own command table, one option at a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKickstart, flatten, versions, formatDiagnostic } from "../../daemon/kickstart/index.js";
import { COMMAND_CLASSES, VERSION_COMMANDS } from "../../daemon/kickstart/grammar/table.js";
import type { OptionSpec } from "../../daemon/kickstart/grammar/types.js";
import { classKey } from "../../daemon/kickstart/versions.js";

/** Values the command's checks (rules.ts) accept, by "command option" or "command positional". */
const SAMPLES: Record<string, string> = {
  "autopart --type": "lvm", "raid --level": "1", "logvol --cachemode": "writeback", "snapshot --when": "pre-install",
  "snapshot origin": "vg00/root", "ostreesetup --url": "https://example.org/repo", "network --bridgeopts": "stp=yes",
  "nvdimm action": "use",
};

function sample(key: string, o: OptionSpec): string {
  const known = SAMPLES[`${key} ${o.f[0] ?? o.d}`];
  if (known) return known;
  if (o.ch) return o.ch[0]!;
  switch (o.t) {
    case "int": return "5";
    case "comma": return "a,b";
    case "bool": return "yes";
    case "mountpoint": return "/srv";
    default: return o.d === "device" ? "eth0" : "v1";
  }
}

function required(key: string, opts: OptionSpec[]): string[] {
  const words: string[] = [];
  for (const o of opts) {
    if (o.f.length === 0 && (o.n === undefined || o.n === 1 || o.n === "+")) words.push(sample(key, o));
    else if (o.f.length > 0 && o.r) words.push(`${o.f[0]}=${sample(key, o)}`);
  }
  return words;
}

function parseText(text: string, version: string) {
  return parseKickstart("/v.ks", { readFile: (p) => (p === "/v.ks" ? text : undefined), version });
}

/** Options pykickstart writes (and anaconda uses) only together with --encrypted. */
const NEEDS_ENCRYPTED = new Set(["--passphrase", "--escrowcert", "--backuppassphrase", "--cipher", "--luks-version", "--pbkdf",
  "--pbkdf-memory", "--pbkdf-time", "--pbkdf-iterations", "--hw-passphrase"]);

/**
 * What a command needs besides its required options (pykickstart checks these in parse), and the
 * options that stand in for it: a line testing one of those leaves the words out.
 */
const ONE_OF: Record<string, [string[], string[]?]> = {
  keyboard: [["us"]], timezone: [["Etc/UTC"]], services: [["--enabled=sshd"], ["--enabled", "--disabled"]],
  timesource: [["--ntp-server=ntp.example"], ["--ntp-server", "--ntp-pool", "--ntp-disable"]],
  eula: [["--agreed"]], ignoredisk: [["--drives=sda"], ["--drives", "--only-use", "--interactive"]],
  driverdisk: [["--source=v1"], ["--source", "--biospart"]], harddrive: [["--partition=sda1"], ["--partition", "--biospart"]],
  logvol: [["--size=5"], ["--size", "--percent", "--recommended", "--hibernation", "--useexisting", "--noformat"]],
  raid: [["--level=1", "raid.01"], ["--useexisting", "--noformat"]], volgroup: [["pv.01"], ["--useexisting", "--noformat"]],
  nvdimm: [["--namespace=ns0"], ["--namespace", "--blockdevs"]], sshpw: [["secret"]],
};

/** Positional words a command always needs that the table does not mark required. */
const NAMES: Record<string, string[]> = { volgroup: ["vg00"] };

/** Options that need others with them (rules.ts), by "command option" or by option alone. */
const NEEDS: Record<string, string[]> = {
  "--hw-passphrase": ["--luks-version=luks2-hw-opal"], "logging --port": ["--host=v1"], "mount --mkfsoptions": ["--reformat=xfs"],
  "partition --resize": ["--onpart=sda1", "--size=5"], "logvol --resize": ["--useexisting"], "logvol --thin": ["--poolname=pool"],
  "logvol --chunksize": ["--thinpool"], "logvol --metadatasize": ["--thinpool"], "logvol --cachesize": ["--cachepvs=pv.02"],
  "logvol --cachepvs": ["--cachesize=5"], "logvol --cachemode": ["--cachepvs=pv.02", "--cachesize=5"],
  "network --bridgeopts": ["--bridgeslaves=eth1"], "network --ipv4-dns-search": ["--device=eth0"],
  "network --ipv6-dns-search": ["--device=eth0"], "network --ipv4-ignore-auto-dns": ["--device=eth0"],
  "network --ipv6-ignore-auto-dns": ["--device=eth0"], "zfcp --wwpn": ["--fcplun=v1"], "zfcp --fcplun": ["--wwpn=v1"],
};

/** Command and option pairs pykickstart refuses whatever else the line says. */
const NEVER = new Set(["cmdline --non-interactive"]);

/** Commands that do nothing without an option; ksflatten writes nothing for them either. */
const NO_OP_ALONE = new Set(["clearpart", "selinux", "xconfig"]);

/** Commands pykickstart checks beyond their syntax in ways a one-option line cannot satisfy. */
const NEEDS_CONTEXT = new Set(["url", "btrfs", "authselect", "authconfig", "rootpw", "sshkey", "realm", "device"]);

for (const version of versions) {
  test(`${version}: every command and option parses and round-trips through flatten`, () => {
    const failures: string[] = [];
    for (const [name, className] of Object.entries(VERSION_COMMANDS[version]!)) {
      const spec = COMMAND_CLASSES[className]!;
      if (spec.status) continue;
      const key = classKey(className);
      if (NEEDS_CONTEXT.has(key)) continue;
      const [extra, standIns] = ONE_OF[key] ?? [[]];
      const base = (flag?: string) => [
        name, ...required(key, spec.opts), ...(NAMES[key] ?? []), ...(flag && standIns?.includes(flag) ? [] : extra),
      ];
      // ksflatten keeps a legacy keymap given with --vckeymap/--xlayouts only as a comment; test those alone.
      const alone = (flag: string) => key === "keyboard" && (flag === "--vckeymap" || flag === "--xlayouts");
      const options = spec.opts.filter((o) => o.f.length > 0 && !o.r && !o.dep && !NEVER.has(`${name} ${o.f[0]!}`));
      const variants = [...(NO_OP_ALONE.has(key) ? [] : [base()]), ...options.map((o) => [
        ...(alone(o.f[0]!) ? [name] : base(o.f[0])),
        ...(NEEDS_ENCRYPTED.has(o.f[0]!) ? ["--encrypted"] : []),
        ...(o.f[0] === "--backuppassphrase" ? ["--escrowcert=v1"] : []),
        ...(NEEDS[`${key} ${o.f[0]!}`] ?? NEEDS[o.f[0]!] ?? []),
        o.k === "store" || o.k === "append" || o.k === "extend" ? `${o.f[0]}=${sample(key, o)}` : o.f[0]!,
      ])];
      for (const words of variants) {
        const line = words.join(" ");
        const first = parseText(line + "\n", version);
        const errors = first.diagnostics.filter((d) => d.severity === "error");
        if (errors.length) {
          failures.push(`${line}: ${errors.map(formatDiagnostic).join("; ")}`);
          continue;
        }
        const again = parseText(flatten(first.model), version);
        const a = JSON.stringify((first.model.commands[key] as { args?: unknown })?.args ?? first.model.commands[key]);
        const b = again.model.commands[key] as { args?: unknown } | { args: unknown }[] | undefined;
        const bArgs = JSON.stringify(Array.isArray(b) ? b.map((x) => x.args) : b?.args);
        const aArgs = Array.isArray(first.model.commands[key])
          ? JSON.stringify((first.model.commands[key] as { args: unknown }[]).map((x) => x.args)) : a;
        if (aArgs !== bArgs) failures.push(`${line}: flatten wrote ${JSON.stringify(flatten(first.model).split("\n").slice(2).join(" | "))}`);
      }
    }
    assert.deepEqual(failures, []);
  });
}
