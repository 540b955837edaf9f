// The engine's side of choosing a package backend: the rule is the kickstart layer's (pure, shared
// with `imgcreate ks plan`); here a mixed kickstart becomes InvalidArgs at its FILE:LINE.
import { ImgcreateError } from "../../errors.js";
import type { KickstartModel } from "../../kickstart/model.js";
import { chooseBackend, type BackendName } from "../../kickstart/backend-choice.js";

export function selectBackend(ks: KickstartModel): BackendName {
  const { choice, conflict } = chooseBackend(ks);
  if (conflict) {
    throw new ImgcreateError("InvalidArgs", `${conflict.file}:${conflict.line}: ${conflict.message}`, { file: conflict.file, line: conflict.line });
  }
  return choice.backend;
}
