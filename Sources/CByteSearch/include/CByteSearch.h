#ifndef SKYLENS_CBYTESEARCH_H
#define SKYLENS_CBYTESEARCH_H
#include <stddef.h>

/// Substring search tuned for log messages and whole batches of them: 16 positions at a time (SSE2), keeping those
/// with the needle's first and last bytes in place, then memcmp (memchr on the first byte without SSE2); memmem for
/// needles over 32 bytes, where its linear worst case matters more than its set-up cost.
const void *skylens_find(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
