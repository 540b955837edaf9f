// configure(): services, the default target (xconfig --startxonboot), SELinux and the firewall —
// each applied only where the image has the thing it configures.
import type { KickstartModel } from "../../kickstart/model.js";
import type { RootOps } from "./root-ops.js";

const unit = (s: string) => (/\.[a-z]+$/.test(s) ? s : `${s}.service`);

export async function applyServices(ks: KickstartModel, ops: RootOps): Promise<void> {
  const s = ks.services;
  if (!s) return;
  if (s.disabled.length) await ops.systemctl(["disable", ...s.disabled.map(unit)]);
  if (s.enabled.length) await ops.systemctl(["enable", ...s.enabled.map(unit)]);
}

export async function applyXconfig(ks: KickstartModel, ops: RootOps): Promise<void> {
  if (ks.xconfig?.startxonboot) await ops.systemctl(["set-default", "graphical.target"]);
}

export async function applySelinux(ks: KickstartModel, ops: RootOps): Promise<void> {
  if (!ks.selinux || !(await ops.exists("/etc/selinux/config"))) return;
  await ops.sh('sed -i -E "s/^SELINUX=.*/SELINUX=$1/" /etc/selinux/config', [ks.selinux.mode]);
}

export async function applyFirewall(ks: KickstartModel, ops: RootOps): Promise<void> {
  const f = ks.firewall;
  if (!f) return;
  if (await ops.has("firewall-offline-cmd")) {
    await ops.run(["firewall-offline-cmd", f.enabled ? "--enabled" : "--disabled"]);
    for (const svc of f.services) await ops.run(["firewall-offline-cmd", `--service=${svc}`]);
    for (const svc of f.removeServices) await ops.run(["firewall-offline-cmd", `--remove-service=${svc}`]);
    for (const p of f.ports) await ops.run(["firewall-offline-cmd", `--port=${p}`]);
    await ops.systemctl([f.enabled ? "enable" : "disable", "firewalld.service"]);
  } else if (await ops.exists("/etc/ufw/ufw.conf")) {
    await ops.sh('sed -i -E "s/^ENABLED=.*/ENABLED=$1/" /etc/ufw/ufw.conf', [f.enabled ? "yes" : "no"]);
  } else if (f.enabled) {
    ops.log("info", `${f.file}:${f.line}: the image has neither firewalld nor ufw; firewall settings not applied`);
  }
}
