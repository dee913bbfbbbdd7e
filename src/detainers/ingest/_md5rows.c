/* Row hashes for imports: the md5 digest of each row's cells joined by a separator, read straight from Arrow
 * string buffers (string, large_string or string_view; nulls as empty cells).
 *
 * It gives exactly hashlib.md5(sep.join(cells)).digest() per row (RFC 1321; tests compare it with hashlib).
 * Where the CPU has AVX2, eight rows are hashed at once, one per 32-bit lane; otherwise one at a time. The GIL
 * is released while hashing, so several threads can hash different row groups at once.
 *
 * md5_join(columns, rows, sep, out): columns is a sequence of (kind, offset, validity, main, data) with kind
 * 0 = string (int32 offsets), 1 = large_string (int64 offsets), 2 = string_view (16-byte views); offset is the
 * array's offset; validity is the validity bitmap or None; main is the offsets or views buffer; data is a tuple
 * of data buffers (one for string/large_string, the variadic buffers for string_view). out is a writable buffer
 * of 16 * rows bytes. An optional last argument False hashes one row at a time even where AVX2 is there (tests).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

enum { KIND_STRING = 0, KIND_LARGE = 1, KIND_VIEW = 2 };

typedef struct {
    int kind;
    int64_t offset;
    const uint8_t *valid;
    const uint8_t *main;
    const uint8_t **data;
    Py_ssize_t ndata;
    Py_ssize_t main_len;
} Column;

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const int S[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    5, 9,  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21,
    6, 10, 15, 21, 6, 10, 15, 21,
};
static const uint32_t INIT[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

static inline int message_word(int i) {
    if (i < 16) return i;
    if (i < 32) return (5 * i + 1) & 15;
    if (i < 48) return (3 * i + 5) & 15;
    return (7 * i) & 15;
}

static inline uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint32_t rotl(uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

/* One 64-byte block into state (RFC 1321). */
static void md5_block(uint32_t state[4], const uint8_t *block) {
    uint32_t m[16];
    for (int w = 0; w < 16; w++) m[w] = load32(block + 4 * w);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        if (i < 16) f = (b & c) | (~b & d);
        else if (i < 32) f = (b & d) | (c & ~d);
        else if (i < 48) f = b ^ c ^ d;
        else f = c ^ (b | ~d);
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + K[i] + m[message_word(i)], S[i]);
        a = t;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

/* The bytes of one cell (empty when null). */
static inline void cell(const Column *c, int64_t row, const uint8_t **ptr, int64_t *len) {
    int64_t j = c->offset + row;
    if (c->valid != NULL && !((c->valid[j >> 3] >> (j & 7)) & 1)) {
        *ptr = NULL;
        *len = 0;
        return;
    }
    if (c->kind == KIND_STRING) {
        const int32_t *off = (const int32_t *)c->main;
        *ptr = c->data[0] + off[j];
        *len = (int64_t)off[j + 1] - off[j];
    } else if (c->kind == KIND_LARGE) {
        const int64_t *off = (const int64_t *)c->main;
        *ptr = c->data[0] + off[j];
        *len = off[j + 1] - off[j];
    } else {
        const uint8_t *view = c->main + 16 * j;
        int32_t n;
        memcpy(&n, view, 4);
        if (n <= 12) {
            *ptr = view + 4;
        } else {
            int32_t buffer, start;
            memcpy(&buffer, view + 8, 4);
            memcpy(&start, view + 12, 4);
            *ptr = c->data[buffer] + start;
        }
        *len = n;
    }
}

/* Length of a row's joined cells. */
static int64_t joined_length(const Column *cols, Py_ssize_t ncols, int64_t row, Py_ssize_t seplen) {
    int64_t total = ncols > 0 ? (int64_t)(ncols - 1) * seplen : 0;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        const uint8_t *p;
        int64_t n;
        cell(&cols[k], row, &p, &n);
        total += n;
    }
    return total;
}

/* The row's joined cells, md5-padded, into buf (capacity >= padded length); returns the number of blocks. */
static int64_t padded(const Column *cols, Py_ssize_t ncols, int64_t row, const uint8_t *sep, Py_ssize_t seplen,
                      int64_t total, uint8_t *buf) {
    uint8_t *w = buf;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        if (k > 0) {
            memcpy(w, sep, (size_t)seplen);
            w += seplen;
        }
        const uint8_t *p;
        int64_t n;
        cell(&cols[k], row, &p, &n);
        if (n > 0) {
            memcpy(w, p, (size_t)n);
            w += n;
        }
    }
    int64_t blocks = (total + 8) / 64 + 1;
    int64_t size = blocks * 64;
    buf[total] = 0x80;
    memset(buf + total + 1, 0, (size_t)(size - total - 1 - 8));
    uint64_t bits = (uint64_t)total * 8;
    for (int i = 0; i < 8; i++) buf[size - 8 + i] = (uint8_t)(bits >> (8 * i));
    return blocks;
}

static void store_digest(const uint32_t state[4], uint8_t *out) {
    for (int i = 0; i < 4; i++) {
        out[4 * i] = (uint8_t)state[i];
        out[4 * i + 1] = (uint8_t)(state[i] >> 8);
        out[4 * i + 2] = (uint8_t)(state[i] >> 16);
        out[4 * i + 3] = (uint8_t)(state[i] >> 24);
    }
}

/* One row, one block at a time; buf grows as needed. Returns 0, or -1 when memory ran out. */
static int hash_row(const Column *cols, Py_ssize_t ncols, int64_t row, const uint8_t *sep, Py_ssize_t seplen,
                    uint8_t **buf, int64_t *cap, uint8_t *out) {
    int64_t total = joined_length(cols, ncols, row, seplen);
    int64_t need = ((total + 8) / 64 + 1) * 64;
    if (need > *cap) {
        uint8_t *grown = realloc(*buf, (size_t)need);
        if (grown == NULL) return -1;
        *buf = grown;
        *cap = need;
    }
    int64_t blocks = padded(cols, ncols, row, sep, seplen, total, *buf);
    uint32_t state[4] = {INIT[0], INIT[1], INIT[2], INIT[3]};
    for (int64_t b = 0; b < blocks; b++) md5_block(state, *buf + 64 * b);
    store_digest(state, out);
    return 0;
}

static int hash_scalar(const Column *cols, Py_ssize_t ncols, int64_t rows, const uint8_t *sep, Py_ssize_t seplen,
                       uint8_t *out) {
    int64_t cap = 256;
    uint8_t *buf = malloc((size_t)cap);
    if (buf == NULL) return -1;
    for (int64_t row = 0; row < rows; row++) {
        if (hash_row(cols, ncols, row, sep, seplen, &buf, &cap, out + 16 * row) != 0) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0;
}

#if HAVE_X86
#define LANES 8
#define LANE_BLOCKS 8 /* rows of up to 8 blocks (503 bytes joined) go through the lanes; longer ones alone */

__attribute__((target("avx2"))) static inline __m256i rotl8(__m256i v, int s) {
    return _mm256_or_si256(_mm256_slli_epi32(v, s), _mm256_srli_epi32(v, 32 - s));
}

__attribute__((target("avx2"))) static int hash_avx2(const Column *cols, Py_ssize_t ncols, int64_t rows,
                                                     const uint8_t *sep, Py_ssize_t seplen, uint8_t *out) {
    const int64_t lane_bytes = 64 * LANE_BLOCKS;
    uint8_t *lanes = aligned_alloc(64, (size_t)(LANES * lane_bytes));
    int64_t cap = 256;
    uint8_t *spill = malloc((size_t)cap);
    if (lanes == NULL || spill == NULL) {
        free(lanes);
        free(spill);
        return -1;
    }
    const __m256i ones = _mm256_set1_epi32(-1);
    for (int64_t first = 0; first < rows; first += LANES) {
        int32_t blocks[LANES] = {0};
        int32_t most = 0;
        for (int lane = 0; lane < LANES; lane++) {
            int64_t row = first + lane;
            if (row >= rows) continue;
            int64_t total = joined_length(cols, ncols, row, seplen);
            if ((total + 8) / 64 + 1 > LANE_BLOCKS) { /* a long row: hashed alone */
                if (hash_row(cols, ncols, row, sep, seplen, &spill, &cap, out + 16 * row) != 0) {
                    free(lanes);
                    free(spill);
                    return -1;
                }
                continue;
            }
            blocks[lane] = (int32_t)padded(cols, ncols, row, sep, seplen, total, lanes + lane * lane_bytes);
            if (blocks[lane] > most) most = blocks[lane];
        }
        if (most == 0) continue;
        __m256i a0 = _mm256_set1_epi32((int)INIT[0]), b0 = _mm256_set1_epi32((int)INIT[1]);
        __m256i c0 = _mm256_set1_epi32((int)INIT[2]), d0 = _mm256_set1_epi32((int)INIT[3]);
        const __m256i count = _mm256_loadu_si256((const __m256i *)blocks);
        const __m256i lane_base = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                     _mm256_set1_epi32((int)lane_bytes));
        for (int32_t b = 0; b < most; b++) {
            /* Lanes whose message has no block b read their own buffer again; their state is kept below. */
            __m256i active = _mm256_cmpgt_epi32(count, _mm256_set1_epi32(b));
            __m256i base = _mm256_add_epi32(lane_base, _mm256_set1_epi32(64 * b));
            base = _mm256_and_si256(base, active);
            __m256i m[16];
            for (int w = 0; w < 16; w++) {
                m[w] = _mm256_i32gather_epi32((const int *)lanes, _mm256_add_epi32(base, _mm256_set1_epi32(4 * w)),
                                              1);
            }
            __m256i a = a0, bb = b0, c = c0, d = d0;
            for (int i = 0; i < 64; i++) {
                __m256i f;
                if (i < 16) f = _mm256_or_si256(_mm256_and_si256(bb, c), _mm256_andnot_si256(bb, d));
                else if (i < 32) f = _mm256_or_si256(_mm256_and_si256(bb, d), _mm256_andnot_si256(d, c));
                else if (i < 48) f = _mm256_xor_si256(_mm256_xor_si256(bb, c), d);
                else f = _mm256_xor_si256(c, _mm256_or_si256(bb, _mm256_xor_si256(d, ones)));
                __m256i t = _mm256_add_epi32(_mm256_add_epi32(a, f),
                                             _mm256_add_epi32(_mm256_set1_epi32((int)K[i]), m[message_word(i)]));
                __m256i next_b = _mm256_add_epi32(bb, rotl8(t, S[i]));
                a = d;
                d = c;
                c = bb;
                bb = next_b;
            }
            a0 = _mm256_blendv_epi8(a0, _mm256_add_epi32(a0, a), active);
            b0 = _mm256_blendv_epi8(b0, _mm256_add_epi32(b0, bb), active);
            c0 = _mm256_blendv_epi8(c0, _mm256_add_epi32(c0, c), active);
            d0 = _mm256_blendv_epi8(d0, _mm256_add_epi32(d0, d), active);
        }
        uint32_t sa[LANES], sb[LANES], sc[LANES], sd[LANES];
        _mm256_storeu_si256((__m256i *)sa, a0);
        _mm256_storeu_si256((__m256i *)sb, b0);
        _mm256_storeu_si256((__m256i *)sc, c0);
        _mm256_storeu_si256((__m256i *)sd, d0);
        for (int lane = 0; lane < LANES; lane++) {
            if (blocks[lane] == 0) continue;
            uint32_t state[4] = {sa[lane], sb[lane], sc[lane], sd[lane]};
            store_digest(state, out + 16 * (first + lane));
        }
    }
    free(lanes);
    free(spill);
    return 0;
}
#endif

static int use_avx2(void) {
#if HAVE_X86 && (defined(__GNUC__) || defined(__clang__))
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return known;
#else
    return 0;
#endif
}

typedef struct {
    Py_buffer *views;
    Py_ssize_t count;
} Held;

static void release(Held *held) {
    for (Py_ssize_t i = 0; i < held->count; i++) PyBuffer_Release(&held->views[i]);
    PyMem_Free(held->views);
    held->views = NULL;
    held->count = 0;
}

static const uint8_t *hold(Held *held, PyObject *obj, Py_ssize_t *len, int writable) {
    if (PyObject_GetBuffer(obj, &held->views[held->count], writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) != 0)
        return NULL;
    Py_buffer *view = &held->views[held->count++];
    if (len != NULL) *len = view->len;
    return (const uint8_t *)view->buf;
}

static PyObject *md5_join(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *columns_obj, *out_obj;
    Py_ssize_t rows;
    const char *sep;
    Py_ssize_t seplen;
    int lanes = 1;
    if (!PyArg_ParseTuple(args, "Ony#O|p", &columns_obj, &rows, &sep, &seplen, &out_obj, &lanes)) return NULL;
    PyObject *seq = PySequence_Fast(columns_obj, "columns must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t ncols = PySequence_Fast_GET_SIZE(seq);
    Py_ssize_t most = 1;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 5 || !PyTuple_Check(PyTuple_GET_ITEM(item, 4))) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "each column is (kind, offset, validity, main, data tuple)");
            return NULL;
        }
        most += 2 + PyTuple_GET_SIZE(PyTuple_GET_ITEM(item, 4));
    }
    Held held = {PyMem_Calloc((size_t)most, sizeof(Py_buffer)), 0};
    Column *cols = PyMem_Calloc((size_t)(ncols > 0 ? ncols : 1), sizeof(Column));
    const uint8_t **datas = PyMem_Calloc((size_t)most, sizeof(uint8_t *));
    PyObject *result = NULL;
    if (held.views == NULL || cols == NULL || datas == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t out_len;
    uint8_t *out = (uint8_t *)hold(&held, out_obj, &out_len, 1);
    if (out == NULL) goto done;
    if (rows < 0 || out_len < 16 * rows) {
        PyErr_SetString(PyExc_ValueError, "out must hold 16 bytes per row");
        goto done;
    }
    Py_ssize_t next_data = 0;
    for (Py_ssize_t k = 0; k < ncols; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        Column *c = &cols[k];
        c->kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(item, 0));
        c->offset = PyLong_AsLongLong(PyTuple_GET_ITEM(item, 1));
        if (PyErr_Occurred()) goto done;
        if (c->kind < KIND_STRING || c->kind > KIND_VIEW || c->offset < 0) {
            PyErr_SetString(PyExc_ValueError, "unknown column kind or negative offset");
            goto done;
        }
        PyObject *valid = PyTuple_GET_ITEM(item, 2);
        Py_ssize_t valid_len = 0;
        if (valid != Py_None) {
            c->valid = hold(&held, valid, &valid_len, 0);
            if (c->valid == NULL) goto done;
            if (valid_len * 8 < c->offset + rows) {
                PyErr_SetString(PyExc_ValueError, "validity bitmap shorter than the rows");
                goto done;
            }
        }
        c->main = hold(&held, PyTuple_GET_ITEM(item, 3), &c->main_len, 0);
        if (c->main == NULL) goto done;
        Py_ssize_t width = c->kind == KIND_STRING ? 4 : c->kind == KIND_LARGE ? 8 : 16;
        Py_ssize_t entries = c->kind == KIND_VIEW ? c->offset + rows : c->offset + rows + 1;
        if (rows > 0 && c->main_len < entries * width) {
            PyErr_SetString(PyExc_ValueError, "offsets or views buffer shorter than the rows");
            goto done;
        }
        PyObject *data = PyTuple_GET_ITEM(item, 4);
        c->data = datas + next_data;
        c->ndata = PyTuple_GET_SIZE(data);
        for (Py_ssize_t i = 0; i < c->ndata; i++) {
            PyObject *buffer = PyTuple_GET_ITEM(data, i);
            static const uint8_t empty = 0;
            if (buffer == Py_None) {
                datas[next_data++] = &empty;
                continue;
            }
            datas[next_data] = hold(&held, buffer, NULL, 0);
            if (datas[next_data] == NULL) goto done;
            next_data++;
        }
        if (c->kind != KIND_VIEW && c->ndata != 1) {
            PyErr_SetString(PyExc_ValueError, "string columns have one data buffer");
            goto done;
        }
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
#if HAVE_X86
    if (lanes && use_avx2()) failed = hash_avx2(cols, ncols, rows, (const uint8_t *)sep, seplen, out);
    else
#endif
        failed = hash_scalar(cols, ncols, rows, (const uint8_t *)sep, seplen, out);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release(&held);
    PyMem_Free(cols);
    PyMem_Free(datas);
    Py_DECREF(seq);
    return result;
}

static PyObject *simd(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyBool_FromLong(use_avx2());
}

static PyMethodDef methods[] = {
    {"md5_join", md5_join, METH_VARARGS, "md5 of each row's cells joined by sep, into out (16 bytes a row)."},
    {"simd", simd, METH_NOARGS, "Whether eight rows are hashed at once (AVX2)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_md5rows", NULL, -1, methods};

PyMODINIT_FUNC PyInit__md5rows(void) { return PyModule_Create(&module); }
