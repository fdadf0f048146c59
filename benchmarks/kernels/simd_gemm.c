/* Integer matrix multiply: C (i32, 64x64) = A (i16, 64x128) x B (i16, 128x64), N times.
 *
 * B is kept transposed, so each element of C is a dot product of two contiguous i16 rows.  With
 * -msimd128 the inner loop is i32x4.dot_i16x8_s (eight products summed pairwise into four i32
 * lanes), four columns of C at a time, the four accumulators reduced by a 4x4 transpose; without
 * it the same source runs the plain triple loop.  The arithmetic is wrapping i32 addition of
 * exact products (|a|, |b| < 2048, so no partial sum leaves i32), so both builds compute the
 * same C bit for bit.  One element of A changes between repetitions, so no repetition can be
 * skipped; the checksum folds every C.
 */
#include "bench.h"
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define FULL 400
#define M 64
#define K 128
#define N 64

static int16_t A[M][K];
static int16_t BT[N][K];      /* B transposed: BT[j][k] = B[k][j] */
static int32_t C[M][N];

#ifdef __wasm_simd128__
static void gemm(void) {
    for (int i = 0; i < M; i++) {
        const int16_t *a = A[i];
        for (int j = 0; j < N; j += 4) {
            v128_t s0 = wasm_i32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < K; k += 8) {
                v128_t va = wasm_v128_load(a + k);
                s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(va, wasm_v128_load(BT[j + 0] + k)));
                s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(va, wasm_v128_load(BT[j + 1] + k)));
                s2 = wasm_i32x4_add(s2, wasm_i32x4_dot_i16x8(va, wasm_v128_load(BT[j + 2] + k)));
                s3 = wasm_i32x4_add(s3, wasm_i32x4_dot_i16x8(va, wasm_v128_load(BT[j + 3] + k)));
            }
            /* lane sums of s0..s3 into one vector: transpose then add */
            v128_t t0 = wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5);
            v128_t t1 = wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7);
            v128_t t2 = wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5);
            v128_t t3 = wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7);
            v128_t u = wasm_i32x4_add(t0, t1);         /* (s0[0]+s0[2], s1[0]+s1[2], s0[1]+s0[3], s1[1]+s1[3]) */
            v128_t w = wasm_i32x4_add(t2, t3);
            v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(u, w, 0, 1, 4, 5),
                                        wasm_i32x4_shuffle(u, w, 2, 3, 6, 7));
            wasm_v128_store(&C[i][j], sum);
        }
    }
}
#else
static void gemm(void) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            uint32_t s = 0;
            for (int k = 0; k < K; k++) s += (uint32_t)((int32_t)A[i][k] * (int32_t)BT[j][k]);
            C[i][j] = (int32_t)s;
        }
}
#endif

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    uint32_t x = 0x2545F491u;
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; A[i][k] = (int16_t)((x >> 8) % 4095) - 2047; }
    for (int j = 0; j < N; j++)
        for (int k = 0; k < K; k++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; BT[j][k] = (int16_t)((x >> 8) % 4095) - 2047; }
    uint32_t check = 0;
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++) {
        A[r % M][(r / M) % K] ^= 1;
        gemm();
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) check = check * 31u + (uint32_t)C[i][j];
    }
    uint64_t t1 = bench_now_ns();
    bench_report_time(t0, t1);
    printf("checksum: %u\n", check);
    return 0;
}
