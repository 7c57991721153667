// Types of jobs.mjs (so that the TypeScript side of the benchmark gets inferred argument/result types).
export declare function inc(x: number): number;
export declare function cpu(n: number): number;
