#ifndef SKYLENS_CBYTESEARCH_H
#define SKYLENS_CBYTESEARCH_H
#include <stddef.h>

/// glibc's memmem (two-way / SIMD search), which Swift's Glibc module does not export.
const void *skylens_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/// Substring search tuned for log messages: SIMD memchr on the needle's first byte, then memcmp; memmem for
/// haystacks over 4 KiB, where its linear worst case matters more than its set-up cost.
const void *skylens_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
