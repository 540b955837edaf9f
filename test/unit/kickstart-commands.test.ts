// Each command livecd-creator acts on, as the engine sees it in the typed model, plus the option
// syntax rules (abbreviations, --opt v, options anywhere) and the errors a user gets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKickstart, formatDiagnostic, rootPartition, type KickstartModel } from "../../daemon/kickstart/index.js";

function parse(text: string, version?: string): { m: KickstartModel; ds: string[] } {
  const r = parseKickstart("/ks/a.ks", {
    readFile: (p) => (p === "/ks/a.ks" ? text : undefined), cwd: "/ks", ...(version ? { version } : {}),
  });
  return { m: r.model, ds: r.diagnostics.map(formatDiagnostic) };
}

function ok(text: string, version?: string): KickstartModel {
  const { m, ds } = parse(text, version);
  assert.deepEqual(ds, []);
  return m;
}

test("lang: language and --addsupport list", () => {
  const m = ok("lang de_DE.UTF-8 --addsupport=en_US,fr_FR\n");
  assert.deepEqual(m.lang, { file: "a.ks", line: 1, lang: "de_DE.UTF-8", addsupport: ["en_US", "fr_FR"] });
});

test("lang without a language is an error at its line", () => {
  assert.deepEqual(parse("\nlang\n").ds, ["a.ks:2: error: lang needs a language"]);
});

test("keyboard: legacy keymap and the new --vckeymap/--xlayouts form", () => {
  assert.equal(ok("keyboard us\n").keyboard?.keymap, "us");
  const k = ok("keyboard --vckeymap=de-nodeadkeys --xlayouts='de (nodeadkeys)',us\n").keyboard;
  assert.equal(k?.vckeymap, "de-nodeadkeys");
  assert.deepEqual(k?.xlayouts, ["de (nodeadkeys)", "us"]);
});

test("timezone: zone and --utc; deprecated --isUtc warns with pykickstart's text", () => {
  assert.deepEqual(ok("timezone Europe/Berlin --utc\n").timezone, {
    file: "a.ks", line: 1, timezone: "Europe/Berlin", utc: true, ntpservers: [], nontp: false,
  });
  const { m, ds } = parse("timezone --isUtc Etc/UTC\n");
  assert.equal(m.timezone?.utc, true);
  assert.match(ds[0]!, /^a\.ks:1: warning: Ignoring deprecated option on line 1: The --isUtc option has been deprecated/);
});

test("authselect keeps its arguments as written", () => {
  assert.deepEqual(ok("authselect select sssd with-silent-lastlog --force\n").authselect?.args,
    ["select", "sssd", "with-silent-lastlog", "--force"]);
});

test("auth was removed after RHEL7: an error in DEVEL, accepted in RHEL7", () => {
  assert.deepEqual(parse("auth --useshadow\n").ds, ["a.ks:1: error: auth has been removed. In this kickstart version, use authselect instead."]);
  assert.deepEqual(parse("auth --useshadow\n", "RHEL7").ds, []);
});

test("firewall: enabled with services, ports, trusts; --disabled", () => {
  const f = ok("firewall --enabled --service=mdns,ssh --port=22:tcp,80:tcp --trust=eth0 --remove-service=cockpit\n").firewall;
  assert.deepEqual(f, {
    file: "a.ks", line: 1, enabled: true, services: ["mdns", "ssh"], removeServices: ["cockpit"], ports: ["22:tcp", "80:tcp"], trusts: ["eth0"],
  });
  assert.equal(ok("firewall --disabled\n").firewall?.enabled, false);
});

test("selinux: each mode", () => {
  for (const mode of ["enforcing", "permissive", "disabled"] as const) {
    assert.equal(ok(`selinux --${mode}\n`).selinux?.mode, mode);
  }
});

test("rootpw: plaintext, --iscrypted, --lock, --allow-ssh; a password is required unless locked", () => {
  assert.deepEqual(ok("rootpw --plaintext secret\n").rootpw, { file: "a.ks", line: 1, password: "secret", iscrypted: false, lock: false, allowSsh: false });
  assert.deepEqual(ok("rootpw --iscrypted --lock --allow-ssh $6$x\n").rootpw, { file: "a.ks", line: 1, password: "$6$x", iscrypted: true, lock: true, allowSsh: true });
  assert.equal(ok("rootpw --lock\n").rootpw?.lock, true);
  assert.deepEqual(parse("rootpw\n").ds, ["a.ks:1: error: rootpw needs a password (or --lock)"]);
});

test("user: every field, and a duplicate name warns", () => {
  const { m, ds } = parse(
    "user --name=alice --password=pw --groups=wheel,audio --uid=1001 --gid=1001 --homedir=/home/a --shell=/bin/zsh --gecos='Alice A' --lock\n" +
    "user --name=alice --iscrypted --password=$6$y\n");
  assert.deepEqual(m.users[0], {
    file: "a.ks", line: 1, name: "alice", password: "pw", iscrypted: false, lock: true, groups: ["wheel", "audio"],
    uid: 1001, gid: 1001, homedir: "/home/a", shell: "/bin/zsh", gecos: "Alice A",
  });
  assert.equal(m.users.length, 2);
  assert.deepEqual(ds, ["a.ks:2: warning: A user with the name alice has already been defined."]);
});

test("user --uid must be a number", () => {
  assert.deepEqual(parse("user --name=a --uid=x\n").ds, ["a.ks:1: error: --uid needs a whole number, not 'x'"]);
});

test("group and sshkey", () => {
  const m = ok(`group --name=admins --gid=900\nsshkey --username=root "ssh-ed25519 AAAA me@host"\n`);
  assert.deepEqual(m.groups, [{ file: "a.ks", line: 1, name: "admins", gid: 900 }]);
  assert.deepEqual(m.sshkeys, [{ file: "a.ks", line: 2, username: "root", key: "ssh-ed25519 AAAA me@host" }]);
});

test("services: enabled and disabled lists; a second line keeps what it does not set (pykickstart)", () => {
  const m = ok("services --enabled=sshd,chronyd\nservices --disabled=cups\n");
  assert.deepEqual(m.services, { file: "a.ks", line: 2, enabled: ["sshd", "chronyd"], disabled: ["cups"] });
});

test("network: every entry kept; duplicate device warns", () => {
  const { m, ds } = parse("network --bootproto=dhcp --device=eth0 --activate --onboot=no --hostname=live\nnetwork --device=eth0 --bootproto=static --ip=10.0.0.2\n");
  assert.equal(m.network.length, 2);
  assert.equal(m.network[0]?.hostname, "live");
  assert.equal(m.network[0]?.activate, true);
  assert.equal(m.network[0]?.onboot, false);
  assert.equal(m.network[1]?.ip, "10.0.0.2");
  assert.deepEqual(ds, ["a.ks:2: warning: A network device with the name eth0 has already been defined."]);
});

test("network --onboot takes a kickstart boolean", () => {
  assert.deepEqual(parse("network --onboot=maybe\n").ds, ["a.ks:1: error: --onboot needs on/off, yes/no, true/false or 1/0, not 'maybe'"]);
});

test("xconfig and bootloader (append, timeout, default, location, disabled)", () => {
  const m = ok(`xconfig --startxonboot --defaultdesktop=GNOME\nbootloader --append="quiet rhgb" --timeout=5 --default=linux --location=mbr\n`);
  assert.deepEqual(m.xconfig, { file: "a.ks", line: 1, startxonboot: true, defaultdesktop: "GNOME" });
  assert.deepEqual(m.bootloader, { file: "a.ks", line: 2, append: "quiet rhgb", timeout: 5, default: "linux", location: "mbr", disabled: false });
  assert.equal(ok("bootloader --disabled\n").bootloader?.disabled, true);
});

test("bootloader --location only takes the known places", () => {
  assert.deepEqual(parse("bootloader --location=usb\n").ds, ["a.ks:1: error: --location must be one of mbr, partition, none, boot, not 'usb'"]);
});

test("part: all / entries kept; size from the LAST with a size, fstype from the FIRST with one", () => {
  const { m, ds } = parse("part / --size 5120 --fstype ext4\npart /boot --size=500\npart / --size=8576\npart / --fstype=xfs\n");
  assert.equal(m.parts.length, 4);
  assert.deepEqual(rootPartition(m), { sizeMiB: 8576, fstype: "ext4", file: "a.ks", line: 3 });
  assert.deepEqual(ds, [
    "a.ks:3: warning: A partition with the mountpoint / has already been defined.",
    "a.ks:4: warning: A partition with the mountpoint / has already been defined.",
  ]);
});

test("rootPartition defaults to 4096 MiB ext4 without part /", () => {
  assert.deepEqual(rootPartition(ok("lang C\n")), { sizeMiB: 4096, fstype: "ext4" });
});

test("part fields: label, fsoptions, grow, maxsize; swap may repeat without a warning", () => {
  const m = ok(`part /data --fstype=xfs --label=DATA --fsoptions="noatime" --grow --maxsize=900 --size=1\npart swap --size=10\npart swap --size=20\n`);
  assert.deepEqual(m.parts[0], {
    file: "a.ks", line: 1, mountpoint: "/data", sizeMiB: 1, fstype: "xfs", label: "DATA", fsoptions: "noatime", grow: true, maxsizeMiB: 900,
  });
});

test("repo: every field; a duplicate name warns; --name is required", () => {
  const { m, ds } = parse(
    `repo --name=deb --baseurl=http://x/ --cost=10 --includepkgs=a,b --excludepkgs=c --proxy=http://p:3128 --noverifyssl --install\n` +
    "repo --name=deb --mirrorlist=http://m/\nrepo --baseurl=http://y/\n");
  assert.deepEqual(m.repos[0], {
    file: "a.ks", line: 1, name: "deb", baseurl: "http://x/", cost: 10, includepkgs: ["a", "b"], excludepkgs: ["c"],
    proxy: "http://p:3128", noverifyssl: true, install: true,
  });
  assert.equal(m.repos[1]?.mirrorlist, "http://m/");
  assert.deepEqual(ds, [
    "a.ks:2: warning: A repo with the name deb has already been defined.",
    "a.ks:3: error: repo needs --name",
  ]);
});

test("url: --url, --mirrorlist or --metalink", () => {
  assert.deepEqual(ok("url --url=http://x/os/\n").url, { file: "a.ks", line: 1, url: "http://x/os/" });
  assert.deepEqual(ok("url --metalink=http://m\n").url, { file: "a.ks", line: 1, metalink: "http://m" });
});

test("module: a command in RHEL8-10, removed in DEVEL", () => {
  const m = ok("module --name=nodejs --stream=18\nmodule --name=php --disable\n", "RHEL9");
  assert.deepEqual(m.packages.modules.map((x) => [x.name, x.stream, x.enabled]), [["nodejs", "18", true], ["php", undefined, false]]);
  assert.match(parse("module --name=nodejs\n").ds[0]!, /a\.ks:1: error: module has been removed\. .*%packages/);
});

test("options: --opt=v and --opt v, anywhere among positionals", () => {
  assert.equal(ok("part --size 100 /var\n").parts[0]?.mountpoint, "/var");
  assert.equal(ok("part --size=100 /var\n").parts[0]?.sizeMiB, 100);
});

test("options: unique prefixes abbreviate, ambiguous ones are errors naming the candidates", () => {
  assert.equal(ok("part / --fsty=ext4\n").parts[0]?.fstype, "ext4");
  const ds = parse("network --no\n").ds;
  assert.match(ds[0]!, /^a\.ks:1: error: ambiguous option --no for network: it could be --nodns, .*; write it out in full$/);
});

test("options: an unknown option lists what the command takes", () => {
  const ds = parse("xconfig --colour\n").ds;
  assert.equal(ds[0], "a.ks:1: error: unknown option --colour for xconfig; it takes --defaultdesktop, --startxonboot");
});

test("a flag given a value is an error", () => {
  assert.deepEqual(parse("xconfig --startxonboot=yes\n").ds, ["a.ks:1: error: --startxonboot takes no value (remove '=yes')"]);
});

test("unknown commands are errors, with a suggestion when one is close", () => {
  assert.deepEqual(parse("bootloadr --timeout=1\n").ds, ["a.ks:1: error: Unknown command: bootloadr; did you mean bootloader?"]);
});

test("single commands: the last wins (and keeps its own line)", () => {
  const m = ok("lang en_US\nlang de_DE\n");
  assert.deepEqual(m.lang, { file: "a.ks", line: 2, lang: "de_DE", addsupport: [] });
});

test("every other command of the version parses and is kept in commands", () => {
  const m = ok("zerombr\nclearpart --all --initlabel\nshutdown\ntext\nskipx\nreqpart --add-boot\n");
  assert.ok(m.commands.zerombr && m.commands.clearpart && m.commands.reboot && m.commands.displaymode && m.commands.skipx && m.commands.reqpart);
  assert.equal((m.commands.reboot as { name: string }).name, "shutdown");
});

test("deprecated commands warn with pykickstart's text", () => {
  // install is removed in DEVEL; in RHEL8 it is deprecated.
  const ds = parse("install\n", "RHEL8").ds;
  assert.match(ds[0]!, /^a\.ks:1: warning: Ignoring deprecated command on line 1:  The install command has been deprecated/);
});

test("autopart and explicit partitioning conflict, reported at the later line", () => {
  assert.deepEqual(parse("part / --size=1\nautopart\n").ds, [
    "a.ks:2: error: The autopart and part commands can't be used at the same time (part is at a.ks:1); keep one of them",
  ]);
});

test("zerombr takes no arguments (pykickstart 3.x refuses 'zerombr yes'); RHEL9 timezone warns about --isUtc", () => {
  assert.deepEqual(parse("zerombr yes\n").ds, ["a.ks:1: error: zerombr takes no arguments besides options, but got 'yes'"]);
  assert.deepEqual(parse("timezone Etc/UTC --isUtc\n", "RHEL9").ds, [
    "a.ks:1: warning: The option --isUtc will be deprecated in future releases. Please modify your kickstart file to replace this option with its preferred alias --utc.",
  ]);
});
