import HealerController
import Testing

@Suite("The allocator keeps a pass's memory")
struct PassMemoryTests {
    @Test("glibc's allocator takes the settings")
    func applied() {
        #if canImport(Glibc)
            #expect(PassMemory.keepBetweenPasses(environment: [:]))
        #endif
    }

    @Test("an operator's own GLIBC_TUNABLES malloc settings win")
    func operatorsTunables() {
        #expect(!PassMemory.keepBetweenPasses(environment: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]))
        #expect(!PassMemory.keepBetweenPasses(environment: ["MALLOC_ARENA_MAX": "2"]))
    }
}
