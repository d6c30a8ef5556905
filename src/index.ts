// The action's entry point (bundled to action/index.js, which action.yml runs).
import { run } from './main.ts';

await run();
