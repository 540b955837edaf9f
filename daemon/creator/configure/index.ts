// configure() in livecd-tools' order: the kickstart's system settings, then (in the creator)
// createBootconfig, then %post.
import type { KickstartModel } from "../../kickstart/model.js";
import { applyGroups, applyRootpw, applySshKeys, applyUsers } from "./accounts.js";
import type { RootOps } from "./root-ops.js";
import { applyFirewall, applySelinux, applyServices, applyXconfig } from "./services.js";
import { applyKeyboard, applyLang, applyNetwork, applyTimezone, writeFstab } from "./system.js";

export { RootOps } from "./root-ops.js";
export { runPostScripts } from "./scripts.js";

export async function applyKickstart(ks: KickstartModel, ops: RootOps, fstab: string): Promise<void> {
  await writeFstab(ops, fstab);
  await applyLang(ks, ops);
  await applyKeyboard(ks, ops);
  await applyTimezone(ks, ops);
  await applyFirewall(ks, ops);
  await applyRootpw(ks, ops);
  await applyGroups(ks, ops);
  await applyUsers(ks, ops);
  await applySshKeys(ks, ops);
  await applyServices(ks, ops);
  await applyXconfig(ks, ops);
  await applyNetwork(ks, ops);
  await applySelinux(ks, ops);
}
