/* Host-call cost: a core module (no WASI) whose export `run(n)` calls the imported env.f n times.
 * Built with -nostdlib; imports: env.f (i32) -> i32; exports: run (i32) -> i32, memory. */
__attribute__((import_module("env"), import_name("f"))) int f(int);

__attribute__((export_name("run"))) int run(int n) {
    int acc = 0;
    for (int i = 0; i < n; i++) acc += f(i);
    return acc;
}
