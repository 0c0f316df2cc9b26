// What a benchmark module exports: a name and a run() that returns the numbers to print.
export type BenchResult = Record<string, string | number>;

export interface BenchModule {
  readonly name: string;
  run(): Promise<BenchResult>;
}
