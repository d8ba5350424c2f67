/// Resource limits applied to every sandboxed run.
public struct RunLimits: Hashable, Codable, Sendable {
    /// Memory limit in bytes; swap is capped to the same value so no extra swap is used.
    public var memoryBytes: Int64
    /// CPU quota in microseconds per 100 ms period (50_000 = half a CPU).
    public var cpuQuota: Int
    /// Maximum number of processes and threads inside the container.
    public var pidsLimit: Int
    /// Wall-clock limit for one run, in seconds.
    public var timeoutSeconds: Double
    /// Output cap in bytes across stdout and stderr; past it the run is killed.
    public var outputLimitBytes: Int
    /// Wall-clock limit for the build step of compiled languages, in seconds (separate from the run).
    public var buildTimeoutSeconds: Double
    /// Size of the writable tmpfs at /tmp (counts against the memory limit).
    public var tmpfsBytes: Int64

    /// The defaults: 128 MiB, half a CPU, 64 processes, 10 s, 1 MiB of output, 60 s to build, 64 MiB /tmp.
    public static let standard = RunLimits(
        memoryBytes: 128 * 1024 * 1024,
        cpuQuota: 50_000,
        pidsLimit: 64,
        timeoutSeconds: 10,
        outputLimitBytes: 1024 * 1024
    )

    public init(
        memoryBytes: Int64, cpuQuota: Int, pidsLimit: Int, timeoutSeconds: Double, outputLimitBytes: Int,
        buildTimeoutSeconds: Double = 60, tmpfsBytes: Int64 = 64 * 1024 * 1024
    ) {
        self.memoryBytes = memoryBytes
        self.cpuQuota = cpuQuota
        self.pidsLimit = pidsLimit
        self.timeoutSeconds = timeoutSeconds
        self.outputLimitBytes = outputLimitBytes
        self.buildTimeoutSeconds = buildTimeoutSeconds
        self.tmpfsBytes = tmpfsBytes
    }

    /// The first limit that makes no sense, as a one-line message; nil when all are usable.
    public var problem: String? {
        if memoryBytes < 6 * 1024 * 1024 { return "memory limit must be at least 6m (Docker's minimum)" }
        if cpuQuota < 1_000 || cpuQuota > 100_000 * 64 { return "cpu quota must be between 1000 and 6400000 µs per 100 ms" }
        if pidsLimit < 4 { return "pids limit must be at least 4" }
        if !(timeoutSeconds > 0) || timeoutSeconds > 86_400 { return "timeout must be between 0 and 86400 seconds" }
        if !(buildTimeoutSeconds > 0) || buildTimeoutSeconds > 86_400 { return "build timeout must be between 0 and 86400 seconds" }
        if outputLimitBytes < 1 { return "output limit must be at least 1 byte" }
        if tmpfsBytes < 1024 * 1024 { return "tmpfs size must be at least 1m" }
        return nil
    }

    /// Parses a byte size such as `128m`, `1g`, `512k`, `64MiB` or a plain number of bytes.
    public static func parseByteSize(_ text: String) -> Int64? {
        let lowered = text.trimmingSpaces.lowercased()
        let digits = lowered.prefix { $0.isNumber || $0 == "." }
        guard !digits.isEmpty, let value = Double(digits), value >= 0 else { return nil }
        var unit = lowered.dropFirst(digits.count)
        if unit.hasSuffix("ib") { unit = unit.dropLast(2) } else if unit.hasSuffix("b") { unit = unit.dropLast() }
        let multiplier: Double
        switch unit {
        case "": multiplier = 1
        case "k": multiplier = 1024
        case "m": multiplier = 1024 * 1024
        case "g": multiplier = 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = value * multiplier
        guard bytes < 1e15 else { return nil }
        return Int64(bytes)
    }
}
