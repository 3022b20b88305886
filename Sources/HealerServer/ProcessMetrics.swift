import Foundation
import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` metrics, named as Prometheus' own client libraries name them, read from `/proc`
/// at every scrape.
final class ProcessMetrics: Sendable {
    private let cpu: Counter
    private let lastCPU = Mutex<Double>(0)
    private let residentMemory: Gauge
    private let virtualMemory: Gauge
    private let openFileDescriptors: Gauge
    private let maxFileDescriptors: Gauge
    private let startTime: Gauge

    init(registry: PrometheusCollectorRegistry) {
        cpu = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "cpu", unitName: "seconds_total", helpText: "Total user and system CPU time spent in seconds."))
        residentMemory = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory size in bytes."))
        virtualMemory = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "virtual_memory", unitName: "bytes", helpText: "Virtual memory size in bytes."))
        openFileDescriptors = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "process", metricName: "open_fds", unitName: "", helpText: "Number of open file descriptors.")
        )
        maxFileDescriptors = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "max_fds", unitName: "", helpText: "Maximum number of open file descriptors."))
        startTime = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "process", metricName: "start_time", unitName: "seconds",
                helpText: "Start time of the process since unix epoch in seconds."))
        update()
    }

    /// Reads `/proc/self` now.
    func update() {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            // Fields after the command name: state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
            let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
            if fields.count >= 22 {
                let seconds = (field(14) + field(15)) / ticks
                let delta = lastCPU.withLock { last -> Double in
                    defer { last = max(last, seconds) }
                    return max(0, seconds - last)
                }
                if delta > 0 { cpu.increment(by: delta) }
                virtualMemory.set(to: field(23))
                residentMemory.set(to: field(24) * page)
                if let boot = Self.bootTime() { startTime.set(to: boot + field(22) / ticks) }
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.set(to: Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFileDescriptors.set(to: Double(limit.rlim_cur)) }
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
    }
}
