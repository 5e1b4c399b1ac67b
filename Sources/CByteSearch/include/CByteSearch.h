#ifndef SKYLENS_CBYTESEARCH_H
#define SKYLENS_CBYTESEARCH_H
#include <stddef.h>

/// glibc's memmem (two-way / SIMD search), which Swift's Glibc module does not export.
const void *skylens_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
