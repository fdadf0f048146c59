/* Shared helpers for the pywamr benchmark kernels (wasm32-wasi).
 *
 * Contract of every kernel: argv[1] is the size (a repetition count of a fixed unit of work, so
 * the work is linear in it); without it the kernel runs its full size.  The timed region is
 * bracketed by clock_gettime(CLOCK_MONOTONIC) and reported as `time_ns: N`; the result is
 * reported as `checksum: VALUE`.
 */
#ifndef PYWAMR_BENCH_H
#define PYWAMR_BENCH_H
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

static inline long bench_size(int argc, char **argv, long full) {
    if (argc > 1) {
        long v = strtol(argv[1], NULL, 10);
        if (v > 0) return v;
    }
    return full;
}

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void bench_report_time(uint64_t t0, uint64_t t1) {
    printf("time_ns: %llu\n", (unsigned long long)(t1 - t0));
}
#endif
