// Counts heap allocations of the whole process, for benchmarks: malloc and friends are replaced by
// wrappers that count and forward to glibc's own implementation. Linked only into benchmark executables.
#pragma once
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, aligned and memalign) made so far by every thread.
uint64_t allocation_count(void);
