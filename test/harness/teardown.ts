// Stopping what a test file's before() started. A before() can fail part-way (a control plane
// that does not come up), leaving the later parts unset whatever their declared type says:
// those are skipped, and the parts that did start are still stopped, in the order given.
export interface Stoppable {
  stop(): Promise<void>;
}

export async function stopAll(...parts: (Stoppable | undefined)[]): Promise<void> {
  for (const part of parts) await part?.stop();
}
