// One user action of a form or card: whether it is under way, and the host's refusal to show
// beside it (the host's messages say what to fix, so they are shown as they are).
export class Action {
  busy = $state(false);
  error = $state('');

  /** Runs `f`; an error becomes `error`, never an unhandled rejection. */
  async run(f: () => Promise<unknown>): Promise<void> {
    this.error = '';
    this.busy = true;
    try {
      await f();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }
}
