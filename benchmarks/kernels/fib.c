/* Recursive Fibonacci: call-heavy integer code.  Size = repetitions of fib(FIB_N). */
#include "bench.h"

#define FIB_N 20        /* 21891 calls per repetition */
#define FULL 4000

__attribute__((noinline)) static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    volatile uint32_t arg = FIB_N;
    uint32_t acc = 0;
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++)
        acc = acc * 31u + fib(arg) + (uint32_t)r;   /* the same work every repetition */
    uint64_t t1 = bench_now_ns();
    bench_report_time(t0, t1);
    printf("checksum: %u\n", acc);
    return 0;
}
