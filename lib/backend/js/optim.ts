// optim kernels in plain TypeScript (to be filled).
export {};
