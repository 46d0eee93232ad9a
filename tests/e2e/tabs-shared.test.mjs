// Tabs of one browser sharing one server through a SharedWorker (the common case).
import { crossTabTests } from "./crosstab.mjs";

crossTabTests({ mode: "shared" });
