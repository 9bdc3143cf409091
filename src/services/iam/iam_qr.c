/* iam_qr.c: the QR code picture of a virtual MFA device (QRCodePNG): the otpauth URI as
 * a QR code (ISO/IEC 18004, byte mode, error correction level M, versions 1 to 20, the
 * mask with the lowest penalty) drawn as a 1-bit grayscale PNG (zlib from the system). */
#include "services/iam/iam.h"

#include <string.h>
#include <zlib.h>

#define QR_MAX_VERSION 20
#define QR_MAX_SIZE (17 + 4 * QR_MAX_VERSION)
#define QR_SCALE 4 /* pixels per module */
#define QR_QUIET 4 /* modules of white border */

/* Level M, by version: error correction codewords per block and number of blocks. */
static const uint8_t ecc_per_block[QR_MAX_VERSION + 1] = {
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26};
static const uint8_t num_blocks[QR_MAX_VERSION + 1] = {0, 1, 1, 1, 2,  2,  4,  4,  4,  5, 5,
                                                       5, 8, 9, 9, 10, 10, 11, 13, 14, 16};

/* ---- Reed-Solomon over GF(256), polynomial x^8 + x^4 + x^3 + x^2 + 1 --------------------- */

static uint8_t gf_mul(uint8_t x, uint8_t y)
{
    unsigned z = 0;
    for (int i = 7; i >= 0; i--) {
        z = (z << 1) ^ ((z >> 7) * 0x11D);
        z ^= ((y >> i) & 1) * x;
    }
    return (uint8_t)z;
}

void iam_qr_reed_solomon(const uint8_t *data, size_t n, uint8_t *ecc, size_t degree)
{
    uint8_t divisor[32];
    memset(divisor, 0, sizeof(divisor));
    divisor[degree - 1] = 1;
    uint8_t root = 1;
    for (size_t i = 0; i < degree; i++) {
        for (size_t j = 0; j < degree; j++) {
            divisor[j] = gf_mul(divisor[j], root);
            if (j + 1 < degree)
                divisor[j] ^= divisor[j + 1];
        }
        root = gf_mul(root, 0x02);
    }
    memset(ecc, 0, degree);
    for (size_t i = 0; i < n; i++) {
        uint8_t factor = data[i] ^ ecc[0];
        memmove(ecc, ecc + 1, degree - 1);
        ecc[degree - 1] = 0;
        for (size_t j = 0; j < degree; j++)
            ecc[j] ^= gf_mul(divisor[j], factor);
    }
}

/* ---- the symbol ----------------------------------------------------------------------- */

struct qr {
    int version, size;
    uint8_t dark[QR_MAX_SIZE][QR_MAX_SIZE];
    uint8_t function[QR_MAX_SIZE][QR_MAX_SIZE];
};

static size_t raw_codewords(int v)
{
    size_t modules = (size_t)((16 * v + 128) * v + 64);
    if (v >= 2) {
        int align = v / 7 + 2;
        modules -= (size_t)((25 * align - 10) * align - 55);
        if (v >= 7)
            modules -= 36;
    }
    return modules / 8;
}

static size_t data_codewords(int v)
{
    return raw_codewords(v) - (size_t)ecc_per_block[v] * num_blocks[v];
}

static void set_function(struct qr *q, int x, int y, bool dark)
{
    q->dark[y][x] = dark;
    q->function[y][x] = 1;
}

static void finder(struct qr *q, int cx, int cy)
{
    for (int dy = -4; dy <= 4; dy++) {
        for (int dx = -4; dx <= 4; dx++) {
            int x = cx + dx, y = cy + dy;
            int d = dx < 0 ? -dx : dx, e = dy < 0 ? -dy : dy;
            int dist = d > e ? d : e;
            if (x >= 0 && x < q->size && y >= 0 && y < q->size)
                set_function(q, x, y, dist != 2 && dist != 4);
        }
    }
}

static void alignment(struct qr *q, int cx, int cy)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            int d = dx < 0 ? -dx : dx, e = dy < 0 ? -dy : dy;
            set_function(q, cx + dx, cy + dy, (d > e ? d : e) != 1);
        }
}

/* Format information: level M (00) and the mask, BCH(15,5), XOR 0x5412. */
static void format_bits(struct qr *q, int mask)
{
    unsigned data = (unsigned)mask, rem = data;
    for (int i = 0; i < 10; i++)
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    unsigned bits = ((data << 10) | rem) ^ 0x5412;
    for (int i = 0; i <= 5; i++)
        set_function(q, 8, i, (bits >> i) & 1);
    set_function(q, 8, 7, (bits >> 6) & 1);
    set_function(q, 8, 8, (bits >> 7) & 1);
    set_function(q, 7, 8, (bits >> 8) & 1);
    for (int i = 9; i < 15; i++)
        set_function(q, 14 - i, 8, (bits >> i) & 1);
    for (int i = 0; i < 8; i++)
        set_function(q, q->size - 1 - i, 8, (bits >> i) & 1);
    for (int i = 8; i < 15; i++)
        set_function(q, 8, q->size - 15 + i, (bits >> i) & 1);
    set_function(q, 8, q->size - 8, true); /* the dark module */
}

static void function_patterns(struct qr *q)
{
    int s = q->size;
    for (int i = 0; i < s; i++) {
        set_function(q, 6, i, i % 2 == 0);
        set_function(q, i, 6, i % 2 == 0);
    }
    finder(q, 3, 3);
    finder(q, s - 4, 3);
    finder(q, 3, s - 4);
    if (q->version >= 2) {
        int n = q->version / 7 + 2;
        int step = (q->version * 4 + n * 2 + 1) / (n * 2 - 2) * 2;
        int pos[8];
        pos[0] = 6;
        for (int i = n - 1, p = s - 7; i >= 1; i--, p -= step)
            pos[i] = p;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (!((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)))
                    alignment(q, pos[i], pos[j]);
    }
    format_bits(q, 0); /* reserves the area; redrawn with the chosen mask */
    if (q->version >= 7) {
        unsigned rem = (unsigned)q->version;
        for (int i = 0; i < 12; i++)
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        unsigned bits = ((unsigned)q->version << 12) | rem;
        for (int i = 0; i < 18; i++) {
            int a = s - 11 + i % 3, b = i / 3;
            set_function(q, a, b, (bits >> i) & 1);
            set_function(q, b, a, (bits >> i) & 1);
        }
    }
}

static void place_codewords(struct qr *q, const uint8_t *cw, size_t n)
{
    size_t i = 0;
    for (int right = q->size - 1; right >= 1; right -= 2) {
        if (right == 6)
            right = 5;
        for (int vert = 0; vert < q->size; vert++) {
            for (int j = 0; j < 2; j++) {
                int x = right - j;
                bool upward = ((right + 1) & 2) == 0;
                int y = upward ? q->size - 1 - vert : vert;
                if (!q->function[y][x] && i < n * 8) {
                    q->dark[y][x] = (cw[i >> 3] >> (7 - (i & 7))) & 1;
                    i++;
                }
            }
        }
    }
}

static bool mask_bit(int mask, int x, int y)
{
    switch (mask) {
    case 0:
        return (x + y) % 2 == 0;
    case 1:
        return y % 2 == 0;
    case 2:
        return x % 3 == 0;
    case 3:
        return (x + y) % 3 == 0;
    case 4:
        return (x / 3 + y / 2) % 2 == 0;
    case 5:
        return x * y % 2 + x * y % 3 == 0;
    case 6:
        return (x * y % 2 + x * y % 3) % 2 == 0;
    default:
        return ((x + y) % 2 + x * y % 3) % 2 == 0;
    }
}

static void apply_mask(struct qr *q, int mask)
{
    for (int y = 0; y < q->size; y++)
        for (int x = 0; x < q->size; x++)
            if (!q->function[y][x] && mask_bit(mask, x, y))
                q->dark[y][x] ^= 1;
}

/* The standard's penalty rules: runs of five or more, 2x2 blocks, finder-like patterns
 * and the dark/light balance. */
static long penalty(const struct qr *q)
{
    static const uint8_t finder_like[2][11] = {{1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0},
                                               {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1}};
    long p = 0;
    int s = q->size, dark = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int a = 0; a < s; a++) {
            int run = 1;
            for (int b = 1; b <= s; b++) {
                bool same = b < s && (pass ? q->dark[b][a] == q->dark[b - 1][a]
                                           : q->dark[a][b] == q->dark[a][b - 1]);
                if (same) {
                    run++;
                    continue;
                }
                if (run >= 5)
                    p += 3 + (run - 5);
                run = 1;
            }
            for (int b = 0; b + 11 <= s; b++)
                for (int k = 0; k < 2; k++) {
                    int m = 0;
                    while (m < 11 &&
                           (pass ? q->dark[b + m][a] : q->dark[a][b + m]) == finder_like[k][m])
                        m++;
                    if (m == 11)
                        p += 40;
                }
        }
    }
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            dark += q->dark[y][x];
            if (x + 1 < s && y + 1 < s && q->dark[y][x] == q->dark[y][x + 1] &&
                q->dark[y][x] == q->dark[y + 1][x] && q->dark[y][x] == q->dark[y + 1][x + 1])
                p += 3;
        }
    long total = (long)s * s;
    long diff = (long)dark * 20 - total * 10;
    if (diff < 0)
        diff = -diff;
    p += ((diff + total - 1) / total - 1) * 10;
    return p;
}

static void put_bits(uint8_t *data, size_t *bit, unsigned value, int count)
{
    for (int k = count - 1; k >= 0; k--, (*bit)++)
        if ((value >> k) & 1)
            data[*bit >> 3] |= (uint8_t)(0x80 >> (*bit & 7));
}

/* Builds the symbol for `text` (byte mode). False when it does not fit version 20. */
static bool encode(struct moat_arena *a, struct moat_slice text, struct qr *q)
{
    int v = 1;
    for (; v <= QR_MAX_VERSION; v++) {
        size_t bits = 4 + (v < 10 ? 8 : 16) + text.len * 8;
        if (bits <= data_codewords(v) * 8)
            break;
    }
    if (v > QR_MAX_VERSION)
        return false;
    size_t cap = data_codewords(v);
    uint8_t *data = moat_arena_calloc(a, cap);
    moat_arena_wipe_on_free(a, data, cap);
    size_t bit = 0;
    put_bits(data, &bit, 4, 4); /* byte mode */
    put_bits(data, &bit, (unsigned)text.len, v < 10 ? 8 : 16);
    for (size_t i = 0; i < text.len; i++)
        put_bits(data, &bit, text.ptr[i], 8);
    bit += cap * 8 - bit < 4 ? cap * 8 - bit : 4; /* terminator */
    size_t used = (bit + 7) / 8;
    for (size_t i = used, pad = 0; i < cap; i++, pad ^= 1)
        data[i] = pad ? 0x11 : 0xEC;

    /* Blocks (short ones first), their error correction, interleaved. */
    size_t raw = raw_codewords(v), blocks = num_blocks[v], ecc_len = ecc_per_block[v];
    size_t short_blocks = blocks - raw % blocks, short_len = raw / blocks;
    uint8_t *out = moat_arena_alloc(a, raw);
    uint8_t *ecc = moat_arena_alloc(a, blocks * ecc_len);
    moat_arena_wipe_on_free(a, out, raw);
    moat_arena_wipe_on_free(a, ecc, blocks * ecc_len);
    size_t offset = 0;
    for (size_t b = 0; b < blocks; b++) {
        size_t dlen = short_len - ecc_len + (b >= short_blocks ? 1 : 0);
        iam_qr_reed_solomon(data + offset, dlen, ecc + b * ecc_len, ecc_len);
        offset += dlen;
    }
    size_t k = 0;
    for (size_t i = 0; i <= short_len - ecc_len; i++) {
        size_t o = 0;
        for (size_t b = 0; b < blocks; b++) {
            size_t dlen = short_len - ecc_len + (b >= short_blocks ? 1 : 0);
            if (i < dlen)
                out[k++] = data[o + i];
            o += dlen;
        }
    }
    for (size_t i = 0; i < ecc_len; i++)
        for (size_t b = 0; b < blocks; b++)
            out[k++] = ecc[b * ecc_len + i];

    memset(q, 0, sizeof(*q));
    q->version = v;
    q->size = 17 + 4 * v;
    function_patterns(q);
    place_codewords(q, out, k);
    int best = 0;
    long best_penalty = -1;
    for (int m = 0; m < 8; m++) {
        apply_mask(q, m);
        format_bits(q, m);
        long p = penalty(q);
        if (best_penalty < 0 || p < best_penalty) {
            best = m;
            best_penalty = p;
        }
        apply_mask(q, m); /* undo */
    }
    apply_mask(q, best);
    format_bits(q, best);
    return true;
}

/* ---- PNG ------------------------------------------------------------------------------------ */

static void put_u32(struct moat_buf *b, uint32_t v)
{
    uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    moat_buf_append_bytes(b, be, 4);
}

static void chunk(struct moat_buf *b, const char *type, const uint8_t *data, size_t n)
{
    put_u32(b, (uint32_t)n);
    size_t start = b->len;
    moat_buf_append_bytes(b, type, 4);
    if (n)
        moat_buf_append_bytes(b, data, n);
    uLong crc = crc32(0L, b->ptr + start, (uInt)(n + 4));
    put_u32(b, (uint32_t)crc);
}

bool iam_qr_png(struct moat_arena *a, struct moat_slice text, struct moat_slice *png)
{
    /* Everything here holds the MFA seed in some form: wiped with the arena. */
    struct qr *q = moat_arena_alloc(a, sizeof(*q));
    moat_arena_wipe_on_free(a, q, sizeof(*q));
    if (!encode(a, text, q))
        return false;
    uint32_t px = (uint32_t)(q->size + 2 * QR_QUIET) * QR_SCALE;
    size_t row_bytes = (px + 7) / 8;
    size_t raw_len = (row_bytes + 1) * px;
    uint8_t *raw = moat_arena_alloc(a, raw_len);
    moat_arena_wipe_on_free(a, raw, raw_len);
    for (uint32_t y = 0; y < px; y++) {
        uint8_t *row = raw + y * (row_bytes + 1);
        row[0] = 0; /* filter: none */
        memset(row + 1, 0xFF, row_bytes);
        int my = (int)(y / QR_SCALE) - QR_QUIET;
        for (uint32_t x = 0; x < px; x++) {
            int mx = (int)(x / QR_SCALE) - QR_QUIET;
            if (mx >= 0 && my >= 0 && mx < q->size && my < q->size && q->dark[my][mx])
                row[1 + x / 8] &= (uint8_t) ~(0x80 >> (x % 8)); /* 0 is black */
        }
    }
    uLongf zlen = compressBound(raw_len);
    uint8_t *z = moat_arena_alloc(a, zlen);
    moat_arena_wipe_on_free(a, z, zlen);
    if (compress2(z, &zlen, raw, raw_len, Z_BEST_COMPRESSION) != Z_OK)
        return false;
    struct moat_buf b;
    moat_buf_init(&b, a, zlen + 64);
    moat_buf_append_bytes(&b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {(uint8_t)(px >> 24),
                        (uint8_t)(px >> 16),
                        (uint8_t)(px >> 8),
                        (uint8_t)px,
                        (uint8_t)(px >> 24),
                        (uint8_t)(px >> 16),
                        (uint8_t)(px >> 8),
                        (uint8_t)px,
                        1 /* bit depth */,
                        0 /* grayscale */,
                        0,
                        0,
                        0};
    chunk(&b, "IHDR", ihdr, sizeof(ihdr));
    chunk(&b, "IDAT", z, zlen);
    chunk(&b, "IEND", NULL, 0);
    if (b.failed)
        return false;
    moat_arena_wipe_on_free(a, b.ptr, b.cap);
    *png = moat_buf_slice(&b);
    return true;
}
