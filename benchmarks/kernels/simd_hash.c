/* BLAKE3 (the hash mode, written out here from the BLAKE3 paper's description) of a stream of
 * pseudo-random data, four 1 KiB chunks at a time.
 *
 * Size = batches of 4 KiB hashed (the 64 KiB input buffer is generated before the timed region
 * and cycled).  With -msimd128 the four chunks of a batch are compressed together, one chunk
 * per i32x4 lane (the state and message words transposed, rotates by 16 and 8 as byte
 * shuffles, by 12 and 7 as shift+or); without it the same source compresses them one after the
 * other.  Parent nodes are merged one at a time on both builds.  The checksum is the 32-byte
 * BLAKE3 digest of the whole stream, so both builds (and every runtime) print the same one.
 */
#include <string.h>
#include "bench.h"
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define FULL 12288          /* 48 MiB */
#define BUF (64 * 1024)
#define CHUNK 1024
#define BATCH (4 * CHUNK)

enum { CHUNK_START = 1, CHUNK_END = 2, PARENT = 4, ROOT = 8 };

static uint8_t data[BUF];

static const uint32_t IV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                               0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

/* message word order of each of the 7 rounds (the permutation applied 0..6 times) */
static const uint8_t SCHEDULE[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

static inline uint32_t rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

#define G(s, a, b, c, d, x, y)                                   \
    do {                                                         \
        s[a] = s[a] + s[b] + (x); s[d] = rotr32(s[d] ^ s[a], 16); \
        s[c] = s[c] + s[d];       s[b] = rotr32(s[b] ^ s[c], 12); \
        s[a] = s[a] + s[b] + (y); s[d] = rotr32(s[d] ^ s[a], 8);  \
        s[c] = s[c] + s[d];       s[b] = rotr32(s[b] ^ s[c], 7);  \
    } while (0)

/* The compression function; out[0..7] is the chaining value (the first 32 output bytes). */
static void compress(const uint32_t cv[8], const uint32_t m[16], uint64_t counter,
                     uint32_t block_len, uint32_t flags, uint32_t out[8]) {
    uint32_t s[16] = {cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                      IV[0], IV[1], IV[2], IV[3], (uint32_t)counter, (uint32_t)(counter >> 32),
                      block_len, flags};
    for (int r = 0; r < 7; r++) {
        const uint8_t *w = SCHEDULE[r];
        G(s, 0, 4, 8, 12, m[w[0]], m[w[1]]);
        G(s, 1, 5, 9, 13, m[w[2]], m[w[3]]);
        G(s, 2, 6, 10, 14, m[w[4]], m[w[5]]);
        G(s, 3, 7, 11, 15, m[w[6]], m[w[7]]);
        G(s, 0, 5, 10, 15, m[w[8]], m[w[9]]);
        G(s, 1, 6, 11, 12, m[w[10]], m[w[11]]);
        G(s, 2, 7, 8, 13, m[w[12]], m[w[13]]);
        G(s, 3, 4, 9, 14, m[w[14]], m[w[15]]);
    }
    for (int i = 0; i < 8; i++) out[i] = s[i] ^ s[i + 8];
}

static void load_words(const uint8_t *p, uint32_t m[16]) {
    memcpy(m, p, 64);         /* wasm is little-endian, as BLAKE3's words are */
}

#ifdef __wasm_simd128__
static inline v128_t rotr16(v128_t x) {
    return wasm_i8x16_shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}
static inline v128_t rotr8(v128_t x) {
    return wasm_i8x16_shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}
static inline v128_t rotr12(v128_t x) { return wasm_v128_or(wasm_u32x4_shr(x, 12), wasm_i32x4_shl(x, 20)); }
static inline v128_t rotr7(v128_t x) { return wasm_v128_or(wasm_u32x4_shr(x, 7), wasm_i32x4_shl(x, 25)); }

#define G4(s, a, b, c, d, x, y)                                                          \
    do {                                                                                 \
        s[a] = wasm_i32x4_add(wasm_i32x4_add(s[a], s[b]), (x)); s[d] = rotr16(wasm_v128_xor(s[d], s[a])); \
        s[c] = wasm_i32x4_add(s[c], s[d]);                      s[b] = rotr12(wasm_v128_xor(s[b], s[c])); \
        s[a] = wasm_i32x4_add(wasm_i32x4_add(s[a], s[b]), (y)); s[d] = rotr8(wasm_v128_xor(s[d], s[a]));  \
        s[c] = wasm_i32x4_add(s[c], s[d]);                      s[b] = rotr7(wasm_v128_xor(s[b], s[c]));  \
    } while (0)

/* Message words 4g..4g+3 of one block of each of the four chunks, transposed so that vector
 * m[4g+i] holds word 4g+i of chunks 0..3 in lanes 0..3. */
static inline void transpose_load(const uint8_t *chunk0, size_t block_off, int g, v128_t *m) {
    v128_t v0 = wasm_v128_load(chunk0 + 0 * CHUNK + block_off + 16 * g);
    v128_t v1 = wasm_v128_load(chunk0 + 1 * CHUNK + block_off + 16 * g);
    v128_t v2 = wasm_v128_load(chunk0 + 2 * CHUNK + block_off + 16 * g);
    v128_t v3 = wasm_v128_load(chunk0 + 3 * CHUNK + block_off + 16 * g);
    v128_t t0 = wasm_i32x4_shuffle(v0, v1, 0, 4, 1, 5);
    v128_t t1 = wasm_i32x4_shuffle(v0, v1, 2, 6, 3, 7);
    v128_t t2 = wasm_i32x4_shuffle(v2, v3, 0, 4, 1, 5);
    v128_t t3 = wasm_i32x4_shuffle(v2, v3, 2, 6, 3, 7);
    m[4 * g + 0] = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
    m[4 * g + 1] = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
    m[4 * g + 2] = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
    m[4 * g + 3] = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/* The chaining values of four consecutive whole chunks (counters counter..counter+3). */
static void hash4_chunks(const uint8_t *chunks, uint64_t counter, uint32_t cvs[4][8]) {
    v128_t h[8];
    for (int i = 0; i < 8; i++) h[i] = wasm_i32x4_splat(IV[i]);
    v128_t lo = wasm_i32x4_make((uint32_t)counter, (uint32_t)(counter + 1),
                                (uint32_t)(counter + 2), (uint32_t)(counter + 3));
    v128_t hi = wasm_i32x4_make((uint32_t)(counter >> 32), (uint32_t)((counter + 1) >> 32),
                                (uint32_t)((counter + 2) >> 32), (uint32_t)((counter + 3) >> 32));
    for (int b = 0; b < CHUNK / 64; b++) {
        v128_t m[16];
        for (int g = 0; g < 4; g++) transpose_load(chunks, 64 * (size_t)b, g, m);
        uint32_t flags = (b == 0 ? CHUNK_START : 0) | (b == CHUNK / 64 - 1 ? CHUNK_END : 0);
        v128_t s[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                        wasm_i32x4_splat(IV[0]), wasm_i32x4_splat(IV[1]),
                        wasm_i32x4_splat(IV[2]), wasm_i32x4_splat(IV[3]),
                        lo, hi, wasm_i32x4_splat(64), wasm_i32x4_splat(flags)};
        for (int r = 0; r < 7; r++) {
            const uint8_t *w = SCHEDULE[r];
            G4(s, 0, 4, 8, 12, m[w[0]], m[w[1]]);
            G4(s, 1, 5, 9, 13, m[w[2]], m[w[3]]);
            G4(s, 2, 6, 10, 14, m[w[4]], m[w[5]]);
            G4(s, 3, 7, 11, 15, m[w[6]], m[w[7]]);
            G4(s, 0, 5, 10, 15, m[w[8]], m[w[9]]);
            G4(s, 1, 6, 11, 12, m[w[10]], m[w[11]]);
            G4(s, 2, 7, 8, 13, m[w[12]], m[w[13]]);
            G4(s, 3, 4, 9, 14, m[w[14]], m[w[15]]);
        }
        for (int i = 0; i < 8; i++) h[i] = wasm_v128_xor(s[i], s[i + 8]);
    }
    uint32_t words[8][4];
    for (int i = 0; i < 8; i++) wasm_v128_store(words[i], h[i]);
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 8; i++) cvs[c][i] = words[i][c];
}
#else
static void hash_chunk(const uint8_t *chunk, uint64_t counter, uint32_t cv[8]) {
    uint32_t m[16];
    memcpy(cv, IV, sizeof IV);
    for (int b = 0; b < CHUNK / 64; b++) {
        load_words(chunk + 64 * b, m);
        uint32_t flags = (b == 0 ? CHUNK_START : 0) | (b == CHUNK / 64 - 1 ? CHUNK_END : 0);
        compress(cv, m, counter, 64, flags, cv);
    }
}

static void hash4_chunks(const uint8_t *chunks, uint64_t counter, uint32_t cvs[4][8]) {
    for (int c = 0; c < 4; c++) hash_chunk(chunks + c * CHUNK, counter + c, cvs[c]);
}
#endif

/* The chaining-value stack of the BLAKE3 tree: at most one entry per level. */
typedef struct { uint32_t stack[54][8]; int depth; uint64_t chunks; } tree;

static void parent_cv(const uint32_t left[8], const uint32_t right[8], uint32_t flags, uint32_t out[8]) {
    uint32_t m[16];
    memcpy(m, left, 32);
    memcpy(m + 8, right, 32);
    compress(IV, m, 0, 64, PARENT | flags, out);
}

/* Adds a chunk that is known not to be the last one: merge while the chunk count is even. */
static void tree_push(tree *t, const uint32_t cv[8]) {
    uint32_t merged[8];
    memcpy(merged, cv, 32);
    uint64_t total = ++t->chunks;
    while ((total & 1) == 0) {
        parent_cv(t->stack[--t->depth], merged, 0, merged);
        total >>= 1;
    }
    memcpy(t->stack[t->depth++], merged, 32);
}

/* The root from the last chunk's chaining value (more than one chunk: the root is a parent). */
static void tree_root(tree *t, const uint32_t last[8], uint32_t out[8]) {
    uint32_t cv[8];
    memcpy(cv, last, 32);
    while (t->depth > 1) parent_cv(t->stack[--t->depth], cv, 0, cv);
    parent_cv(t->stack[--t->depth], cv, ROOT, out);
}

int main(int argc, char **argv) {
    long batches = bench_size(argc, argv, FULL);
    uint32_t x = 0x9E3779B9u;
    for (int i = 0; i < BUF; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; data[i] = (uint8_t)x; }
    static tree t;
    uint32_t cvs[4][8], digest[8];
    uint64_t t0 = bench_now_ns();
    t.depth = 0;
    t.chunks = 0;
    for (long i = 0; i < batches; i++) {
        hash4_chunks(data + (i * BATCH) % BUF, 4 * (uint64_t)i, cvs);
        for (int c = 0; c < 4; c++) {
            if (i == batches - 1 && c == 3) tree_root(&t, cvs[c], digest);
            else tree_push(&t, cvs[c]);
        }
    }
    uint64_t t1 = bench_now_ns();
    bench_report_time(t0, t1);
    printf("checksum: ");
    const uint8_t *bytes = (const uint8_t *)digest;
    for (int i = 0; i < 32; i++) printf("%02x", bytes[i]);
    printf("\n");
    return 0;
}
