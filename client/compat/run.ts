// The livecd-creator / image-creator front ends: livecd-tools' command line, built through imgcreated as
// the calling user. Warnings for options that change nothing here go to stderr before the build starts.
import { openSync, closeSync } from "node:fs";
import { ImgcreateError } from "../../daemon/errors.js";
import { EXIT, describeError, exitCodeFor } from "../errors.js";
import { build } from "../commands/build.js";
import { makeContext } from "../commands/context.js";
import { PlainRenderer, pickRenderer, type Renderer } from "../progress/renderers.js";
import { QuietRenderer, TeeToFile } from "../progress/extra.js";
import { compatHelp, planCompat, type Flavour } from "./options.js";

export async function runCompat(argv: string[], flavour: Flavour, out = process.stdout, err = process.stderr): Promise<number> {
  const prog = flavour === "livecd" ? "livecd-creator" : "image-creator";
  try {
    const plan = planCompat(argv, flavour);
    if (plan.help) {
      out.write(compatHelp(prog));
      return EXIT.ok;
    }
    for (const w of plan.warnings) err.write(`${prog}: warning: ${w}\n`);
    let render: Renderer = plan.verbosity === "quiet" ? new QuietRenderer() : plan.verbosity === "verbose" ? new PlainRenderer(out) : pickRenderer(false, out);
    if (plan.logfile) {
      try {
        closeSync(openSync(plan.logfile, "a"));
      } catch {
        throw new ImgcreateError("InvalidArgs", `cannot write the log file ${plan.logfile}`, { exitCode: EXIT.usage });
      }
      render = new TeeToFile(render, plan.logfile);
    }
    if (plan.verbosity !== "quiet") err.write(`${prog}: using label '${plan.options.fslabel}' and name '${plan.options.name}'\n`);
    // The transport follows the same defaults as imgcreate (IMGCREATE_SOCKET, then D-Bus, then the socket).
    const ctx = makeContext({ json: false, help: false }, out, err);
    return await build(ctx, { kickstart: plan.kickstart, outdir: plan.outdir, options: plan.options, shell: plan.shell, keepSession: plan.keepSession, renderer: render });
  } catch (e) {
    const code = exitCodeFor(e);
    err.write(code === EXIT.cancelled ? `${prog}: cancelled\n` : `${prog}: ${describeError(e)}\n`);
    return code;
  }
}

export async function compatMain(flavour: Flavour): Promise<void> {
  process.on("uncaughtException", (e) => {
    process.stderr.write(`${flavour === "livecd" ? "livecd-creator" : "image-creator"}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.failed);
  });
  const code = await runCompat(process.argv.slice(2), flavour);
  setImmediate(() => process.exit(code));
}
