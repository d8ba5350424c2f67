/// Resource limits applied to every sandboxed run.
public struct RunLimits: Equatable, Codable, Sendable {
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

    /// The defaults: 128 MiB, half a CPU, 64 processes, 10 s, 1 MiB of output.
    public static let standard = RunLimits(
        memoryBytes: 128 * 1024 * 1024,
        cpuQuota: 50_000,
        pidsLimit: 64,
        timeoutSeconds: 10,
        outputLimitBytes: 1024 * 1024
    )

    public init(memoryBytes: Int64, cpuQuota: Int, pidsLimit: Int, timeoutSeconds: Double, outputLimitBytes: Int) {
        self.memoryBytes = memoryBytes
        self.cpuQuota = cpuQuota
        self.pidsLimit = pidsLimit
        self.timeoutSeconds = timeoutSeconds
        self.outputLimitBytes = outputLimitBytes
    }
}
