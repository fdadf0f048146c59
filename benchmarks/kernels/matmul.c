/* Dense f64 matrix multiply, C = A * B with N x N matrices.  Size = repetitions. */
#include "bench.h"

#define N 64
#define FULL 900

static double A[N][N], B[N][N], C[N][N];

__attribute__((noinline)) static void matmul(void) {
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) C[i][j] = 0.0;
        for (int k = 0; k < N; k++) {
            double a = A[i][k];
            for (int j = 0; j < N; j++) C[i][j] += a * B[k][j];
        }
    }
}

int main(int argc, char **argv) {
    long reps = bench_size(argc, argv, FULL);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            B[i][j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.5;
        }
    double acc = 0.0;
    uint64_t t0 = bench_now_ns();
    for (long r = 0; r < reps; r++) {
        matmul();
        acc += C[r % N][(r * 7) % N];
        A[r % N][(r * 3) % N] += 1.0 / 1024.0;   /* keep repetitions distinct */
    }
    uint64_t t1 = bench_now_ns();
    double trace = 0.0;
    for (int i = 0; i < N; i++) trace += C[i][i];
    bench_report_time(t0, t1);
    printf("checksum: %.6f %.6f\n", acc, trace);
    return 0;
}
