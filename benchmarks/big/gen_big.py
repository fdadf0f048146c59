"""Generate big.c: many distinct functions (loops, branches, f64 and i64 maths, a switch) so
that the compiled module has about 1 MB of code, for compile-time measurements."""
import random
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
rng = random.Random(1234)
out = ["#include <stdio.h>", "#include <stdint.h>", "volatile uint32_t sink;"]
for i in range(N):
    a, b, c = (rng.randrange(1, 1 << 20) for _ in range(3))
    out.append(f"""
__attribute__((noinline)) uint32_t f{i}(uint32_t x, uint32_t n) {{
    uint64_t acc = {a}u;
    double d = {b}.0;
    for (uint32_t k = 0; k < n; k++) {{
        acc = acc * {c | 1}u + (x ^ k);
        if ((acc >> {i % 31 + 1}) & 1) d = d * 1.0000001 + (double)(k & {i % 7 + 1});
        else d -= (double)(acc & 0xff) / {i % 13 + 2}.0;
        switch ((acc + k) % 6) {{
            case 0: x += {a % 97}; break;
            case 1: x ^= x << {i % 9 + 1}; break;
            case 2: x = (x >> 3) | (x << 29); break;
            case 3: x *= {b % 101 | 1}; break;
            case 4: x -= (uint32_t)d; break;
            default: x += (uint32_t)(acc >> 32); break;
        }}
    }}
    return x ^ (uint32_t)acc ^ (uint32_t)(int64_t)d;
}}""")
out.append("int main(int argc, char **argv) {\n    uint32_t x = (uint32_t)argc;")
for i in range(N):
    out.append(f"    x = f{i}(x, 3);")
out.append('    printf("checksum: %u\\n", x);\n    return 0;\n}')
sys.stdout.write("\n".join(out) + "\n")
