// The owner rule: a session belongs to the uid that created it. Anyone else needs the manage-others action;
// without it the answer is NotOwner (not NotAuthorized: the caller may build, just not this session).
import { ImgcreateError } from "../errors.js";
import type { Caller } from "./caller.js";
import type { Polkit } from "./polkit.js";

export async function checkOwner(
  polkit: Polkit,
  caller: Caller,
  owner: number,
  manageOthersAction: string,
  details: Record<string, string>,
  interactive: boolean,
): Promise<void> {
  if (caller.uid === owner) return;
  if (await polkit.allowed(caller, manageOthersAction, details, interactive)) return;
  throw new ImgcreateError("NotOwner", `this session belongs to uid ${owner}, not to you (uid ${caller.uid})`, { owner });
}
