/* The same fill/copy work as memloop.c, but through memset/memcpy, which -mbulk-memory turns
 * into memory.fill / memory.copy instructions.  Size = repetitions over a 64 KiB buffer. */
#include <string.h>
#include "bench.h"

#define BUF (64 * 1024)
#define FULL 40000

static unsigned char src[BUF], dst[BUF];

/* noinline so that clang cannot fold a copy of freshly filled bytes into another fill. */
__attribute__((noinline)) static void fill(unsigned char *p, unsigned char v, uint32_t n) {
    memset(p, v, n);
}

__attribute__((noinline)) static void copy(unsigned char *d, const unsigned char *s, uint32_t n) {
    memmove(d, s, n);
}

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++) {
        uint32_t half = BUF / 2, off = (uint32_t)(r * 4099) % half;
        fill(src, (unsigned char)(r * 7 + 1), half);
        fill(src + half, (unsigned char)(r * 13 + 3), half);
        copy(dst + off, src, half);
        copy(dst, src + half + off / 2, half / 2);   /* same length every repetition */
    }
    uint64_t t1 = bench_now_ns();
    uint32_t sum = 0;
    for (uint32_t i = 0; i < BUF; i += 61) sum = sum * 31u + dst[i];
    bench_report_time(t0, t1);
    printf("checksum: %u\n", sum);
    return 0;
}
