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
    /// The owning process's start time (clock ticks since boot, /proc/PID/stat field 22): a pid
    /// reused by another process after a crash does not keep a leftover alive.
    public static let ownerStart = "dev.codesync.owner-start"
    /// Wall-clock seconds the container may live (enforced inside it by `timeout -s KILL`).
    public static let lifetime = "dev.codesync.lifetime"
}

/// When a process started, to tell a live owner from a process that reused its pid.
enum ProcessStart {
    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot); nil when unknown.
    static func of(_ pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // Field 3 is the first after ')', so field 22 is at index 19.
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// Builds the engine's create request for a hardened sandbox container (pure).
enum ContainerSpec {
    /// The smallest RLIMIT_CPU given to a container (seconds of CPU time, not wall-clock).
    static let minimumCPUSeconds = 300

    /// A cold container's code arrives within this many seconds of its start (create, attach, start, write).
    static let startAllowanceSeconds = 15
    /// A pooled container is used within this many seconds of its start, or discarded.
    static let poolMaxAgeSeconds = 300
    /// Slack on top of the run's own limits, so codesync's precise deadline always acts first.
    static let lifetimeSlackSeconds = 5

    /// Wall-clock seconds a container may live: waiting for its code, then the build and the run.
    static func lifetimeSeconds(language: Language, limits: RunLimits, pooled: Bool, hasBuild: Bool? = nil) -> Int {
        let waiting = pooled ? poolMaxAgeSeconds : startAllowanceSeconds
        let work = limits.timeoutSeconds + ((hasBuild ?? language.isCompiled) ? limits.buildTimeoutSeconds : 0)
        return waiting + Int(work.rounded(.up)) + lifetimeSlackSeconds
    }

    /// The loader's command under a wall-clock deadline that holds even if codesync dies.
    ///
    /// The image's `timeout` runs as the child of the container's init (docker-init): GNU timeout
    /// (Debian images) stays the loader's parent, so a program that kills it makes init's child exit,
    /// which ends the container all the same. Busybox's timeout (Alpine images) watches from a
    /// grandchild that the program could kill: there, a hostile program escapes this backstop and
    /// only the CPU rlimit and the next start's cleanup remain (docs/RUNNER.md). No `timeout` in
    /// the image: the loader runs without the backstop.
    static func deadlineCommand(_ command: [String], lifetimeSeconds: Int) -> [String] {
        let script = "if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL \(lifetimeSeconds) \"$@\"; fi; exec \"$@\""
        return ["/bin/sh", "-c", script, "codesync-deadline"] + command
    }

    /// The create request; with `project`, the project folder is bind-mounted read-only at
    /// /project (the working directory) and the container runs the file or command there instead
    /// of waiting for a program on stdin.
    static func createBody(language: Language, limits: RunLimits, instance: String, pid: Int32, host: String,
                           lifetimeSeconds: Int? = nil, project: ProjectMount? = nil) -> [String: Any] {
        let hasBuild = project.map { $0.hasBuild(language) } ?? language.isCompiled
        let lifetime = lifetimeSeconds ?? Self.lifetimeSeconds(language: language, limits: limits, pooled: false, hasBuild: hasBuild)
        var environment = ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "HOME": "/tmp"]
        for (key, value) in language.environment { environment[key] = value }
        if let project {
            // The path travels in the environment, never inside the script (see ProjectMount.commands).
            environment["CODESYNC_FILE"] = project.file ?? ""
            // A Go package with a go.mod builds as a module, one without in GOPATH mode.
            if environment["GO111MODULE"] != nil { environment["GO111MODULE"] = "auto" }
        }
        let tmpfsSize = max(1, limits.tmpfsBytes / 1024)
        // Compiled programs are written to /tmp and executed from there, so only they get exec; a
        // project's own command may build there too.
        let executableTmp = hasBuild || project?.command != nil
        let tmpfsOptions = "rw,\(executableTmp ? "exec" : "noexec"),nosuid,nodev,size=\(tmpfsSize)k,mode=1777"
        // CPU-seconds backstop in the kernel: if codesync itself dies mid-run, nobody is left to enforce
        // the wall-clock limit, but a busy loop still ends. Generous, so ordinary timeouts share a pool.
        let cpuSeconds = max(Self.minimumCPUSeconds, Int(limits.timeoutSeconds + limits.buildTimeoutSeconds) + 5)
        var hostConfig: [String: Any] = [
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
        let command: [String]
        if let project {
            // Read-only, and non-recursive: only the snapshot folder itself, never a mount under it.
            hostConfig["Mounts"] = [[
                "Type": "bind", "Source": project.hostPath, "Target": ProjectMount.target, "ReadOnly": true,
                "BindOptions": ["NonRecursive": true, "Propagation": "rprivate"],
            ] as [String: Any]]
            command = ["/bin/sh", "-c", project.script(for: language)]
        } else {
            command = Loader.command(for: language)
        }
        return [
            "Image": language.image,
            "Cmd": deadlineCommand(command, lifetimeSeconds: lifetime),
            "Entrypoint": [String](),
            "WorkingDir": project == nil ? "/tmp" : ProjectMount.target,
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
                SandboxLabels.lifetime: "\(lifetime)",
                SandboxLabels.ownerStart: ProcessStart.of(pid).map { "\($0)" } ?? "",
            ],
            "HostConfig": hostConfig,
        ]
    }
}
