import CAllocator

/// Keeps the memory of one pass for the next, instead of handing it back to the kernel and faulting it in again.
///
/// A pass over a large fleet allocates its working memory anew (answers, label sets, readings: about 90 MiB for
/// 10k servers × 20 rules) and frees it at the end. With glibc's defaults, blocks above its mmap threshold are
/// mapped and unmapped each time, and free memory at the top of the heap above the trim threshold is returned:
/// the next pass, two seconds later, touches every page again, each a page fault the kernel zeroes. That was
/// about a fifth of a 10k-target pass's CPU (docs/scale.md). Healer keeps its high-water mark instead: blocks up
/// to 32 MiB come from the heap (not mappings of their own), and up to 512 MiB of free heap stays mapped, so a
/// one-off spike (a large answer, a burst of API traffic) stays resident too.
///
/// Glibc only; an operator's own malloc settings win: nothing is changed when `GLIBC_TUNABLES` has a
/// `glibc.malloc.*` setting or a `MALLOC_*` variable (`MALLOC_TRIM_THRESHOLD_`, …) is set.
public enum PassMemory {
    /// The largest block taken from the heap rather than mapped on its own (glibc's upper limit for the setting).
    public static let heapBlockLimit = 32 << 20
    /// Free memory kept at the top of the heap.
    public static let keptFree = 512 << 20

    /// Applies the settings to this process's allocator; returns whether they were applied.
    @discardableResult
    public static func keepBetweenPasses(environment: [String: String]) -> Bool {
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("glibc.malloc.") { return false }
        if environment.keys.contains(where: { $0.hasPrefix("MALLOC_") }) { return false }
        return healer_keep_heap(Int32(heapBlockLimit), Int32(keptFree)) == 1
    }
}
