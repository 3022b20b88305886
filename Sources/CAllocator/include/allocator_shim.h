#ifndef HEALER_ALLOCATOR_SHIM_H
#define HEALER_ALLOCATOR_SHIM_H

/// glibc's mallopt(M_MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD), which Swift's Glibc module does not show
/// (malloc.h is not in it). Returns 1 when both were set, 0 otherwise (and on a C library without mallopt).
int healer_keep_heap(int mmap_threshold, int trim_threshold);

#endif
