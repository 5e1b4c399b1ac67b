#define _GNU_SOURCE
#include <string.h>
#include "CByteSearch.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// memchr on the first byte, then memcmp.
static const void *find_by_first_byte(const unsigned char *h, size_t haystack_len, const unsigned char *n, size_t needle_len) {
    const unsigned char *end = h + haystack_len - needle_len + 1;
    while (h < end) {
        const unsigned char *p = memchr(h, n[0], (size_t)(end - h));
        if (p == NULL) return NULL;
        if (memcmp(p + 1, n + 1, needle_len - 1) == 0) return p;
        h = p + 1;
    }
    return NULL;
}

const void *skylens_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    if (needle_len == 0) return haystack;
    if (needle_len > haystack_len) return NULL;
    const unsigned char *h = haystack, *n = needle;
    if (needle_len == 1) return memchr(h, n[0], haystack_len);
    // Long needles: memmem's linear worst case matters more than its set-up cost.
    if (needle_len > 32) return memmem(haystack, haystack_len, needle, needle_len);
#if defined(__SSE2__)
    // 16 positions at a time: a candidate must have the needle's first byte at i and its last at i + len - 1
    // (two bytes filter far better than one), then the middle is compared. At most 31 compares per position.
    const __m128i first = _mm_set1_epi8((char)n[0]);
    const __m128i last = _mm_set1_epi8((char)n[needle_len - 1]);
    size_t i = 0;
    for (; i + needle_len - 1 + 16 <= haystack_len; i += 16) {
        const __m128i at_first = _mm_loadu_si128((const __m128i *)(h + i));
        const __m128i at_last = _mm_loadu_si128((const __m128i *)(h + i + needle_len - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(at_first, first), _mm_cmpeq_epi8(at_last, last)));
        while (mask != 0) {
            const unsigned bit = (unsigned)__builtin_ctz(mask);
            if (memcmp(h + i + bit + 1, n + 1, needle_len - 2) == 0) return h + i + bit;
            mask &= mask - 1;
        }
    }
    if (i + needle_len > haystack_len) return NULL;
    return find_by_first_byte(h + i, haystack_len - i, n, needle_len);
#else
    return find_by_first_byte(h, haystack_len, n, needle_len);
#endif
}
