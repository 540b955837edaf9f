// bin/livecd-creator: livecd-tools' livecd-creator command line, through imgcreated.
import { compatMain } from "./run.js";

void compatMain("livecd");
