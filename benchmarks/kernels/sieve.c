/* Sieve of Eratosthenes over [0, LIMIT).  Size = repetitions. */
#include <string.h>
#include "bench.h"

#define LIMIT 65536
#define FULL 600

static unsigned char composite[LIMIT];

__attribute__((noinline)) static uint32_t sieve(uint32_t limit) {
    for (uint32_t i = 0; i < limit; i++) composite[i] = 0;
    uint32_t count = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i]) continue;
        count++;
        for (uint32_t j = i * i; j < limit; j += i) composite[j] = 1;
    }
    return count;
}

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    volatile uint32_t limit = LIMIT;
    uint32_t acc = 0;
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++)
        acc = acc * 1000003u + sieve(limit - (uint32_t)(r & 7));
    uint64_t t1 = bench_now_ns();
    bench_report_time(t0, t1);
    printf("checksum: %u\n", acc);
    return 0;
}
