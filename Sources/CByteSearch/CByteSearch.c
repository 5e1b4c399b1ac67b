#define _GNU_SOURCE
#include <string.h>
#include "CByteSearch.h"

const void *skylens_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    return memmem(haystack, haystack_len, needle, needle_len);
}

const void *skylens_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len) {
    if (needle_len == 0) return haystack;
    if (needle_len > haystack_len) return NULL;
    if (haystack_len > 4096) return memmem(haystack, haystack_len, needle, needle_len);
    const unsigned char *h = haystack, *n = needle;
    const unsigned char *end = h + haystack_len - needle_len + 1;
    const unsigned char first = n[0];
    while (h < end) {
        const unsigned char *p = memchr(h, first, (size_t)(end - h));
        if (p == NULL) return NULL;
        if (memcmp(p + 1, n + 1, needle_len - 1) == 0) return p;
        h = p + 1;
    }
    return NULL;
}
