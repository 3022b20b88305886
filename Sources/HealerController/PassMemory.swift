import CAllocator

/// Keeps the memory of one pass for the next, instead of handing it back to the kernel and faulting it in again.
///
/// A pass over a large fleet allocates its working memory anew (answers, label sets, readings: about 90 MiB for
/// 10k servers × 20 rules) and frees it at the end. With glibc's defaults, blocks above its mmap threshold are
/// mapped and unmapped each time, and free memory at the top of the heap above the trim threshold is returned:
/// the next pass, two seconds later, touches every page again, each a page fault the kernel zeroes. That was
/// about a fifth of a 10k-target pass's CPU (docs/scale.md). Healer keeps the high-water mark instead: blocks up
/// to 32 MiB come from the heap, and up to 512 MiB of free heap stays mapped. A small fleet's passes never reach
/// those sizes, so nothing changes for it.
///
/// Glibc only; an operator's own `GLIBC_TUNABLES` malloc settings win (nothing is changed when any is set).
public enum PassMemory {
    /// The largest block taken from the heap rather than mapped on its own (glibc's upper limit for the setting).
    public static let heapBlockLimit = 32 << 20
    /// Free memory kept at the top of the heap.
    public static let keptFree = 512 << 20

    /// Applies the settings to this process's allocator; returns whether they were applied.
    @discardableResult
    public static func keepBetweenPasses(environment: [String: String]) -> Bool {
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.") { return false }
        return healer_keep_heap(Int32(heapBlockLimit), Int32(keptFree)) == 1
    }
}
