// bin/image-creator: livecd-tools' image-creator (a loop filesystem image), through imgcreated.
import { compatMain } from "./run.js";

void compatMain("image");
