// The dnf backend's driver: a short Python program over dnf's own library (python3-dnf), as Anaconda
// drives it, because dnf's command line cannot say what %packages says in one transaction
// (`@group --nodefaults` beside `@group --optional`, `-@group` out of an environment, modules). It
// reads one request (a JSON file named by its argument) and writes events as JSON lines after a marker; everything else
// it or a package scriptlet prints is plain output for the log. Two runs make an install:
//   "download": on the host, with the network, into the shared cache (an empty scratch root, so
//               nothing of the image is read as the host's root);
//   "install" / "update": in the root's sandbox, offline (cache only), key import, signature checks
//               and the rpm transaction with every scriptlet as the sandbox's root.
// Both resolve the same request against the same metadata, so they agree on the package set.
// Exit status: 0 done, 3 missing names (event "missing"), 4 an error (event "error").

export const DNF_EVENT = "imgcreate-dnf: ";

/** One repository as the driver configures it. */
export interface DriverRepo {
  id: string;
  baseurl?: string;
  mirrorlist?: string;
  metalink?: string;
  cost?: number;
  includepkgs: string[];
  excludepkgs: string[];
  proxy?: string;
  sslverify: boolean;
  /** A key file (armored) to check this repository's packages with; none: no signature check. */
  gpgkey?: string;
  /** FILE:LINE of its kickstart line, for messages (the driver does not read it). */
  where?: string;
}

export interface DriverRequest {
  mode: "download" | "install" | "update";
  root: string;
  cachedir: string;
  logdir: string;
  releasever: string | null;
  repos: DriverRepo[];
  packages: string[];
  groups: { name: string; types: string[] }[];
  environment: string | null;
  excludedGroups: string[];
  excludes: string[];
  /** Modules: enable `name:stream` (and install the profile, or the stream's default one), or disable. */
  modules: ({ spec: string; install: boolean } | { disable: string })[];
  core: boolean;
  ignoreMissing: boolean;
  weakDeps: boolean;
  excludeDocs: boolean;
  instLangs: string | null;
  /** update: installed names the new request no longer asks for. */
  remove: string[];
  /** update: groups and environments the old request installed and the new one drops or excludes (dnf removes what only they brought in). */
  removeGroups: string[];
  /** Seconds a repository may stall before it counts as unreachable. */
  timeout: number;
  /** install: files written into the root before the transaction (the image type's setup files). */
  setupFiles: { path: string; content: string; mode: number }[];
  /** install: files left in the image after it (`repo --install`: .repo files and their keys). */
  files: Record<string, string>;
}

export type DriverEvent =
  | { event: "progress"; fraction: number; message: string; bytes?: number }
  | { event: "log"; level: "info" | "warning"; message: string }
  | { event: "missing"; specs: { kind: "package" | "group" | "environment" | "module"; name: string }[] }
  | { event: "error"; kind: "repo" | "depsolve" | "download" | "gpg" | "transaction" | "tool"; message: string; repo?: string }
  | { event: "done"; packages: string[]; bytes: number };

export const DNF_DRIVER = String.raw`
import json, os, re, sys

MARK = "imgcreate-dnf: "

def emit(**e):
    sys.stdout.write(MARK + json.dumps(e) + "\n")
    sys.stdout.flush()

def fail(kind, message, **extra):
    emit(event="error", kind=kind, message=str(message).strip(), **extra)
    sys.exit(4)

with open(sys.argv[1]) as f:
    req = json.load(f)
mode = req["mode"]
for d in (req["logdir"], req["cachedir"]):
    os.makedirs(d, exist_ok=True)
# Anything dnf raises that is not handled below still ends as one error event, not a traceback.
sys.excepthook = lambda t, v, tb: (emit(event="error", kind="tool", message="%s: %s" % (t.__name__, v)), sys.exit(4))
# rpm reads its macros once, when it is imported, and ~/.rpmmacros last: Debian's rpm keeps its
# database in the caller's home, images keep it where their rpm looks.
home = os.path.join(req["logdir"], "home")
os.makedirs(home, exist_ok=True)
with open(os.path.join(home, ".rpmmacros"), "w") as f:
    f.write("%_dbpath /var/lib/rpm\n")
    if req["instLangs"]:
        f.write("%%_install_langs %s\n" % req["instLangs"])
os.environ["HOME"] = home
try:
    import dnf, dnf.callback, dnf.exceptions, dnf.repo, dnf.module.module_base
except ImportError as e:
    fail("tool", "python3-dnf is not installed (%s)" % e)

# A Conf of our own, its installroot set before dnf.Base sees it: Base's default one opens the rpm
# database under / to guess the release (which made a /var/lib/rpm/rpmdb.sqlite on the host).
conf = dnf.conf.Conf()
conf.installroot = req["root"]
# dnf's history (what marks a group installed, so a later update can remove it) belongs to the root,
# as dnf's command line keeps it: never the host's /var/lib/dnf.
conf.persistdir = os.path.join(req["root"], "var/lib/dnf")
conf.cachedir = req["cachedir"]
conf.logdir = req["logdir"]
conf.keepcache = True
conf.reposdir = []
conf.assumeyes = True
conf.install_weak_deps = req["weakDeps"]
conf.timeout = req["timeout"]
conf.retries = 2
conf.excludepkgs = req["excludes"]
# Offline in the sandbox: every repository from the cache the download run filled.
conf.cacheonly = mode != "download"
if req["excludeDocs"]:
    conf.tsflags = ["nodocs"]
if req["releasever"]:
    conf.substitutions["releasever"] = req["releasever"]
else:
    # Nothing to detect it from in an empty root; the backend refuses URLs that need it.
    conf.substitutions.pop("releasever", None)
base = dnf.Base(conf)

for r in req["repos"]:
    repo = dnf.repo.Repo(r["id"], conf)
    repo.name = r["id"]
    for key in ("baseurl", "mirrorlist", "metalink"):
        if r.get(key):
            setattr(repo, key, [r[key]] if key == "baseurl" else r[key])
    if r.get("cost") is not None:
        repo.cost = r["cost"]
    repo.includepkgs = r["includepkgs"]
    repo.excludepkgs = r["excludepkgs"]
    if r.get("proxy"):
        repo.proxy = r["proxy"]
    repo.sslverify = r["sslverify"]
    repo.gpgcheck = bool(r.get("gpgkey"))
    repo.gpgkey = ["file://" + r["gpgkey"]] if r.get("gpgkey") else []
    repo.skip_if_unavailable = False
    base.repos.add(repo)

emit(event="progress", fraction=0.02, message="reading the repositories' metadata")
try:
    base.fill_sack(load_system_repo=True)
except dnf.exceptions.RepoError as e:
    m = re.search(r"repo '([^']+)'", str(e))
    fail("repo", e, **({"repo": m.group(1)} if m else {}))
base.read_comps(arch_filter=True)

missing = []
def lost(kind, name):
    missing.append({"kind": kind, "name": name})

excluded_groups = []
for name in req["excludedGroups"]:
    g = base.comps.group_by_pattern(name)
    if g:
        excluded_groups.append(g.id)

try:
    mb = dnf.module.module_base.ModuleBase(base)
    for m in req["modules"]:
        try:
            if "disable" in m:
                mb.disable([m["disable"]])
            else:
                mb.enable([m["spec"].split("/")[0]])
                if m["install"]:
                    mb.install([m["spec"]])
        except dnf.exceptions.MarkingErrors:
            lost("module", m.get("spec") or m.get("disable"))
except dnf.exceptions.Error as e:
    fail("depsolve", e)

strict = not req["ignoreMissing"]
wanted_groups = set()
def group(name, types):
    g = base.comps.group_by_pattern(name)
    if not g:
        return lost("group", name)
    if g.id in excluded_groups:
        return
    wanted_groups.add(g.id)
    try:
        base.group_install(g.id, types, exclude=req["excludes"], strict=strict)
    except dnf.exceptions.MarkingError as e:
        fail("depsolve", "group %s: %s" % (name, e))

if req["core"]:
    if base.comps.group_by_pattern("core"):
        group("core", ("mandatory", "default"))
    else:
        emit(event="log", level="info", message="the repositories have no core group: only what %packages names is installed")
if req["environment"]:
    env = base.comps.environment_by_pattern(req["environment"])
    if not env:
        lost("environment", req["environment"])
    else:
        base.environment_install(env.id, ("mandatory", "default"), exclude=req["excludes"], strict=strict, exclude_groups=excluded_groups)
        wanted_groups.update(g.id for g in env.mandatory_groups if g.id not in excluded_groups)
for g in req["groups"]:
    group(g["name"], tuple(g["types"]))
for name in req["packages"]:
    try:
        base.install(name, strict=strict)
    except dnf.exceptions.MarkingError:
        lost("package", name)
for name in req["remove"]:
    try:
        base.remove(name)
    except dnf.exceptions.PackagesNotInstalledError:
        pass
# Dropped groups leave with the packages only they brought in; one the new request still
# installs (itself or through its environment) stays. Names never installed are no error.
for name in req["removeGroups"]:
    g = base.comps.group_by_pattern(name)
    if g and g.id in wanted_groups:
        continue
    try:
        base.env_group_remove([name])
    except dnf.exceptions.Error as e:
        emit(event="log", level="info", message="@%s: %s" % (name, e))

if missing:
    emit(event="missing", specs=missing)
    if strict:
        sys.exit(3)

emit(event="progress", fraction=0.05, message="resolving dependencies")
try:
    base.resolve(allow_erasing=bool(req["remove"] or req["removeGroups"]))
except dnf.exceptions.DepsolveError as e:
    fail("depsolve", e)

pkgs = sorted(base.transaction.install_set, key=str)
total = sum(p.downloadsize or 0 for p in pkgs)

class Download(dnf.callback.DownloadProgress):
    def start(self, total_files, total_size, total_drpms=0):
        self.done = {}
    def progress(self, payload, done):
        self.done[str(payload)] = done
        got = sum(self.done.values())
        emit(event="progress", fraction=0.05 + 0.25 * got / max(total, 1), message="downloading packages", bytes=got)
    def end(self, payload, status, msg):
        if status == dnf.callback.STATUS_FAILED:
            emit(event="log", level="warning", message="%s: %s" % (payload, msg))

try:
    base.download_packages(pkgs, Download())
except dnf.exceptions.DownloadError as e:
    fail("download", e)

if mode == "download":
    emit(event="done", packages=["%s %s" % (p, p.chksum[1].hex() if p.chksum else "") for p in pkgs], bytes=total)
    sys.exit(0)

for p in pkgs:
    code, msg = base.package_signature_check(p)
    if code == 1:
        try:
            base.package_import_key(p, askcb=lambda *a: True)
        except dnf.exceptions.Error as e:
            fail("gpg", e)
        code, msg = base.package_signature_check(p)
    if code != 0:
        fail("gpg", msg)

root = req["root"]
def put(path, text, mode=0o644):
    dest = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "w") as f:
        f.write(text)
    os.chmod(dest, mode)
for f in req["setupFiles"]:
    put(f["path"], f["content"], f["mode"])

class Transaction(dnf.callback.TransactionProgress):
    seen = set()
    def progress(self, package, action, ti_done, ti_total, ts_done, ts_total):
        if package is None or (str(package), action) in self.seen:
            return
        self.seen.add((str(package), action))
        what = {dnf.callback.PKG_INSTALL: "installing", dnf.callback.PKG_ERASE: "removing", dnf.callback.PKG_REMOVE: "removing",
                dnf.callback.PKG_SCRIPTLET: "running scriptlets of", dnf.callback.PKG_VERIFY: "verifying"}.get(action)
        if what:
            emit(event="progress", fraction=0.3 + 0.65 * ts_done / max(ts_total, 1), message="%s %s" % (what, package))
    def error(self, message):
        emit(event="log", level="warning", message=message)

try:
    base.do_transaction(display=Transaction())
except dnf.exceptions.Error as e:
    fail("transaction", e)

# Where this image's own rpm looks for its database (Fedora since 36: /usr/lib/sysimage/rpm).
try:
    with open(os.path.join(root, "usr/lib/rpm/macros")) as f:
        m = re.search(r"^%_dbpath\s+(\S+)", f.read(), re.M)
except OSError:
    m = None
want = m.group(1).replace("%{_usr}", "/usr").replace("%{_var}", "/var") if m else "/var/lib/rpm"
have = os.path.join(root, "var/lib/rpm")
if want != "/var/lib/rpm" and want.startswith("/") and os.path.isdir(have) and not os.path.islink(have):
    dest = os.path.join(root, want.lstrip("/"))
    os.makedirs(dest, exist_ok=True)
    for f in os.listdir(have):
        os.replace(os.path.join(have, f), os.path.join(dest, f))
    os.rmdir(have)
    os.symlink(os.path.relpath(dest, os.path.dirname(have)), have)

# Later transactions in the image keep the languages (as Anaconda leaves them).
if req["instLangs"]:
    put("/etc/rpm/macros.image-language-conf", "%%_install_langs %s\n" % req["instLangs"])
for path, text in req["files"].items():
    put(path, text)
emit(event="done", packages=[str(p) for p in pkgs], bytes=total)
`;
