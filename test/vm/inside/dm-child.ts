// The kill -9 victim: sets up an origin and a snapshot, says "ready" and waits to be killed.
// argv: WORKDIR OWNER
import { mountedOrigin, snapshot } from "./dm-fixture.js";

const [workDir, owner] = process.argv.slice(2) as [string, string];
const s = await mountedOrigin(workDir, owner);
await snapshot(s, owner, "ckpt");
process.stdout.write("ready\n");
setInterval(() => undefined, 60_000);
