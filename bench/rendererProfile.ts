// Optional: what the workbench renderer did during one bench phase, for finding out where its long tasks come
// from. BG_AGENT_BENCH_PROFILE=<file.cpuprofile>: V8's CPU profile (sampled every 1 ms through the Chrome
// DevTools Protocol). BG_AGENT_BENCH_TRACE=<file.json>: a Chromium trace (tasks, layout, paint, GC; open it in
// DevTools' Performance panel), which also shows the work that the CPU profile lumps together as "(program)".
import { writeFileSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';

export class RendererProfile {
  private session: CDPSession | undefined;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly page: Page,
    private readonly files: { profile?: string; trace?: string },
  ) {}

  start(): void {
    const { profile, trace } = this.files;
    this.started = (async () => {
      if (trace) {
        await this.page.context().browser()?.startTracing(this.page, {
          categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink.user_timing', 'toplevel'],
        });
      }
      if (profile) {
        this.session = await this.page.context().newCDPSession(this.page);
        await this.session.send('Profiler.enable');
        await this.session.send('Profiler.setSamplingInterval', { interval: 1000 });
        await this.session.send('Profiler.start');
      }
    })();
  }

  /** Stops and writes the files (once: a second call waits for the first); nothing when never started. */
  stop(): Promise<void> {
    this.stopped ??= this.started ? this.write(this.started) : Promise.resolve();
    return this.stopped;
  }

  private async write(started: Promise<void>): Promise<void> {
    await started;
    if (this.session && this.files.profile) {
      const { profile } = await this.session.send('Profiler.stop');
      writeFileSync(this.files.profile, JSON.stringify(profile));
      await this.session.detach();
      console.log(`renderer CPU profile: ${this.files.profile}`);
    }
    if (this.files.trace) {
      const trace = await this.page.context().browser()?.stopTracing();
      if (trace) writeFileSync(this.files.trace, trace);
      console.log(`renderer trace: ${this.files.trace}`);
    }
  }
}
