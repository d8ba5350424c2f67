import Foundation

/// Labels that mark our containers, so leftovers of a crash can be found and removed.
public enum SandboxLabels {
    /// Present on every sandbox container.
    public static let sandbox = "dev.codesync.sandbox"
    /// The owning process id.
    public static let ownerPID = "dev.codesync.owner-pid"
    /// The owning host name (pids mean nothing across hosts sharing an engine).
    public static let ownerHost = "dev.codesync.owner-host"
    /// The sandbox instance that created the container.
    public static let instance = "dev.codesync.instance"
    public static let language = "dev.codesync.language"
}

/// Builds the engine's create request for a hardened sandbox container (pure).
enum ContainerSpec {
    /// The smallest RLIMIT_CPU given to a container (seconds of CPU time, not wall-clock).
    static let minimumCPUSeconds = 300

    static func createBody(language: Language, limits: RunLimits, instance: String, pid: Int32, host: String) -> [String: Any] {
        var environment = ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "HOME": "/tmp"]
        for (key, value) in language.environment { environment[key] = value }
        let tmpfsSize = max(1, limits.tmpfsBytes / 1024)
        // Compiled programs are written to /tmp and executed from there, so only they get exec.
        let tmpfsOptions = "rw,\(language.isCompiled ? "exec" : "noexec"),nosuid,nodev,size=\(tmpfsSize)k,mode=1777"
        // CPU-seconds backstop in the kernel: if codesync itself dies mid-run, nobody is left to enforce
        // the wall-clock limit, but a busy loop still ends. Generous, so ordinary timeouts share a pool.
        let cpuSeconds = max(Self.minimumCPUSeconds, Int(limits.timeoutSeconds + limits.buildTimeoutSeconds) + 5)
        let hostConfig: [String: Any] = [
            "NetworkMode": "none",
            "Memory": limits.memoryBytes,
            "MemorySwap": limits.memoryBytes,
            "CpuQuota": limits.cpuQuota,
            "CpuPeriod": 100_000,
            "PidsLimit": limits.pidsLimit,
            "ReadonlyRootfs": true,
            "Tmpfs": ["/tmp": tmpfsOptions],
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges", "seccomp=\(SeccompProfile.json)"],
            "Init": true,
            "LogConfig": ["Type": "none", "Config": [String: String]()],
            "Ulimits": [
                ["Name": "cpu", "Soft": cpuSeconds, "Hard": cpuSeconds + 1],
                ["Name": "nofile", "Soft": 1024, "Hard": 1024],
                ["Name": "core", "Soft": 0, "Hard": 0],
            ],
            "IpcMode": "private",
            "AutoRemove": false,
        ]
        return [
            "Image": language.image,
            "Cmd": Loader.command(for: language),
            "Entrypoint": [String](),
            "WorkingDir": "/tmp",
            "User": "65534:65534",
            "Env": environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            "AttachStdin": true,
            "AttachStdout": true,
            "AttachStderr": true,
            "OpenStdin": true,
            "StdinOnce": true,
            "Tty": false,
            "NetworkDisabled": true,
            "Labels": [
                SandboxLabels.sandbox: "1",
                SandboxLabels.ownerPID: "\(pid)",
                SandboxLabels.ownerHost: host,
                SandboxLabels.instance: instance,
                SandboxLabels.language: language.name,
            ],
            "HostConfig": hostConfig,
        ]
    }
}
