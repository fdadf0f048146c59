/* f32 saxpy then dot product over 4096-element vectors, N times.
 *
 * One unit: y = a*x + y, then d = x.y.  With -msimd128 both loops are f32x4 (mul, add, and two
 * f32x4 accumulators for the dot product); without it the same source runs scalar loops that
 * keep eight separate accumulators in the same lane order (element i goes to accumulator
 * i % 8) and reduce them in the same tree, so both builds round identically and print the same
 * bits.  `a` alternates in sign so y stays bounded; the checksum is the sum of every d (in
 * f64) and the final y[0], printed exactly.
 */
#include "bench.h"
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define FULL 25000
#define LEN 4096

static float X[LEN], Y[LEN];

#ifdef __wasm_simd128__
static void saxpy(float a) {
    v128_t va = wasm_f32x4_splat(a);
    for (int i = 0; i < LEN; i += 4) {
        v128_t y = wasm_f32x4_add(wasm_f32x4_mul(va, wasm_v128_load(X + i)), wasm_v128_load(Y + i));
        wasm_v128_store(Y + i, y);
    }
}

static float dot(void) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    for (int i = 0; i < LEN; i += 8) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(X + i), wasm_v128_load(Y + i)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(X + i + 4), wasm_v128_load(Y + i + 4)));
    }
    v128_t s = wasm_f32x4_add(s0, s1);                               /* lanes acc[l] + acc[l+4] */
    v128_t h = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 0, 1)); /* (l0+l2, l1+l3, ...) */
    return wasm_f32x4_extract_lane(h, 0) + wasm_f32x4_extract_lane(h, 1);
}
#else
static void saxpy(float a) {
    for (int i = 0; i < LEN; i++) Y[i] = a * X[i] + Y[i];
}

static float dot(void) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < LEN; i += 8)
        for (int l = 0; l < 8; l++) acc[l] = acc[l] + X[i + l] * Y[i + l];
    float s[4], h[2];
    for (int l = 0; l < 4; l++) s[l] = acc[l] + acc[l + 4];
    h[0] = s[0] + s[2];
    h[1] = s[1] + s[3];
    return h[0] + h[1];
}
#endif

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    uint32_t x = 0x6C8E9CF5u;
    for (int i = 0; i < LEN; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        X[i] = (float)((int32_t)(x >> 8) - (1 << 23)) / (float)(1 << 23);   /* [-1, 1) */
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        Y[i] = (float)((int32_t)(x >> 8) - (1 << 23)) / (float)(1 << 24);   /* [-0.5, 0.5) */
    }
    double total = 0.0;
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++) {
        saxpy((r & 1) ? -0.375f : 0.375f);
        total += dot();
    }
    uint64_t t1 = bench_now_ns();
    bench_report_time(t0, t1);
    printf("checksum: %.17g %.9g\n", total, Y[0]);
    return 0;
}
