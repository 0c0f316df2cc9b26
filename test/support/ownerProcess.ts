// Drives test/support/taskOwner.ts from a test or a benchmark: a real owner process of background tasks
// that can be killed any way an owner dies and followed by the next one on the same log folder.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { TaskNotification, TaskSnapshot } from '../../src/core/tasks/types';

type Message = { ready?: TaskSnapshot[]; restoreMs?: number; started?: TaskSnapshot; findable?: TaskSnapshot; cancelled?: TaskSnapshot; ended?: TaskSnapshot; notified?: TaskNotification; disposed?: true; released?: true };

export class OwnerProcess {
  private readonly seen: Message[] = [];
  private readonly waiting = new Set<() => void>();
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.seen.push(JSON.parse(line) as Message);
      for (const wake of [...this.waiting]) wake();
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts an owner; resolves with it and the tasks it restored once it is ready. */
  /**
   * Starts an owner; resolves with it, the tasks it restored and how long restore() took, once it is
   * ready. `script`: the bundle of taskOwner.ts (the tests' by default; benchmarks bundle their own);
   * `spawnMode`: how its tasks are started.
   */
  static async start(
    logDir: string,
    graceMs: number,
    options: { script?: string; spawnMode?: 'auto' | 'direct' } = {},
  ): Promise<{ owner: OwnerProcess; restored: TaskSnapshot[]; restoreMs: number }> {
    const script = options.script ?? path.join(__dirname, '..', 'support', 'taskOwner.js');
    const args = [script, logDir, String(graceMs), path.join(logDir, 'state.json'), options.spawnMode ?? 'auto'];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const owner = new OwnerProcess(child);
    const ready = await owner.next((m) => (m.ready ? m : undefined));
    return { owner, restored: ready.ready ?? [], restoreMs: ready.restoreMs ?? 0 };
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Starts a task and waits until a later owner could take it over (its pid and start time are saved). */
  async start(command: string, conversationId?: string, timeoutMs?: number): Promise<TaskSnapshot> {
    this.send({ start: { command, conversationId, timeoutMs } });
    const started = await this.next((m) => (m.started?.command === command ? m.started : undefined));
    this.send({ findable: started.id });
    return this.next((m) => (m.findable?.id === started.id ? m.findable : undefined));
  }

  async cancel(id: string): Promise<TaskSnapshot> {
    this.send({ cancel: id });
    return this.next((m) => (m.cancelled?.id === id ? m.cancelled : undefined));
  }

  ended(id: string, timeoutMs = 20_000): Promise<TaskSnapshot> {
    return this.next((m) => (m.ended?.id === id ? m.ended : undefined), timeoutMs);
  }

  notified(id: string, timeoutMs = 20_000): Promise<TaskNotification> {
    return this.next((m) => (m.notified?.taskId === id ? m.notified : undefined), timeoutMs);
  }

  /** Disposes the manager the way a closing window does, while the process lives on. */
  async release(): Promise<void> {
    this.send({ release: true });
    await this.next((m) => m.released);
  }

  async dispose(): Promise<void> {
    this.send({ dispose: true });
    await this.exited;
  }

  /** Kills the owner process itself (not its tasks) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    await this.exited;
  }

  /** A raw command line for taskOwner.ts (tests that must not wait for its answer). */
  send(command: unknown): void {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  /** What the owner sent so far, one short entry per message (for a failure's message). */
  private summary(): string {
    return this.seen
      .map((m) => {
        const [kind, value] = Object.entries(m)[0] ?? ['?', undefined];
        if (Array.isArray(value)) return `${kind}[${value.map((t: TaskSnapshot) => `${t.id} ${t.status}${t.reattach ? ' reattach' : ''}`).join(', ')}]`;
        if (value && typeof value === 'object') {
          const v = value as { id?: string; taskId?: string; status?: string; exitCode?: number };
          return `${kind} ${v.id ?? v.taskId} ${v.status ?? ''}${v.exitCode === undefined ? '' : ` ${v.exitCode}`}`;
        }
        return kind;
      })
      .join('; ');
  }

  /** The first message (seen already or to come) for which `pick` returns a value. */
  private next<T>(pick: (m: Message) => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const look = (): boolean => {
        for (const m of this.seen) {
          const value = pick(m);
          if (value !== undefined) {
            clearTimeout(timer);
            this.waiting.delete(wake);
            resolve(value);
            return true;
          }
        }
        return false;
      };
      const wake = (): void => void look();
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        reject(new Error(`The task owner (pid ${this.child.pid}) did not send what was awaited in ${timeoutMs} ms; it sent: ${this.summary()}`));
      }, timeoutMs);
      if (!look()) this.waiting.add(wake);
    });
  }
}
