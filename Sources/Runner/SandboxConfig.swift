import Foundation

/// How a sandbox talks to the engine and what it runs: socket, languages, limits, pool size.
public struct SandboxConfig: Sendable, Equatable {
    /// Unix socket of the Docker engine.
    public var socketPath: String
    public var catalog: LanguageCatalog
    /// Limits for runs that do not bring their own.
    public var limits: RunLimits
    /// Pre-started containers kept per language in use (0 turns the pool off).
    public var poolSize: Int

    public init(socketPath: String = DockerClient.defaultSocketPath(), catalog: LanguageCatalog = LanguageCatalog(),
                limits: RunLimits = .standard, poolSize: Int = 2) {
        self.socketPath = socketPath
        self.catalog = catalog
        self.limits = limits
        self.poolSize = poolSize
    }

    /// The config file: `$XDG_CONFIG_HOME/codesync/runner.json`, else `~/.config/codesync/runner.json`.
    public static func defaultFileURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base: URL
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg)
        } else {
            let home = environment["HOME"] ?? NSHomeDirectory()
            base = URL(fileURLWithPath: home).appendingPathComponent(".config")
        }
        return base.appendingPathComponent("codesync/runner.json")
    }

    /// Defaults, then the config file (if present), then `DOCKER_HOST` and `CODESYNC_IMAGE_<LANG>`.
    public static func load(
        file: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SandboxConfig {
        var config = SandboxConfig(socketPath: DockerClient.defaultSocketPath(environment: environment))
        let url = file ?? defaultFileURL(environment: environment)
        if FileManager.default.fileExists(atPath: url.path) {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw RunnerError.invalidConfiguration("cannot read \(url.path): \(error.localizedDescription)")
            }
            try config.apply(fileData: data, path: url.path)
        }
        for index in config.catalog.languages.indices {
            let key = "CODESYNC_IMAGE_\(config.catalog.languages[index].name.uppercased())"
            if let image = environment[key], !image.isEmpty { config.catalog.languages[index].image = image }
        }
        if let problem = config.limits.problem { throw RunnerError.invalidConfiguration(problem) }
        return config
    }

    /// Applies a runner.json document (see docs/RUNNER.md for the format).
    public mutating func apply(fileData: Data, path: String) throws {
        func fail(_ message: String) -> RunnerError { .invalidConfiguration("\(path): \(message)") }
        guard let root = (try? JSONSerialization.jsonObject(with: fileData)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        let knownKeys: Set<String> = ["socket", "pool", "limits", "languages"]
        if let unknown = root.keys.first(where: { !knownKeys.contains($0) }) { throw fail("unknown key \"\(unknown)\"") }
        if let socket = root["socket"] {
            guard let text = socket as? String, !text.isEmpty else { throw fail("\"socket\" must be a path") }
            socketPath = text.hasPrefix("unix://") ? String(text.dropFirst(7)) : text
        }
        if let pool = root["pool"] {
            guard let size = pool as? Int, (0...16).contains(size) else { throw fail("\"pool\" must be an integer 0...16") }
            poolSize = size
        }
        if let limitsValue = root["limits"] {
            guard let object = limitsValue as? [String: Any] else { throw fail("\"limits\" must be an object") }
            for (key, value) in object {
                switch key {
                case "memory": limits.memoryBytes = try Self.bytes(value, key, fail)
                case "tmpfs": limits.tmpfsBytes = try Self.bytes(value, key, fail)
                case "output": limits.outputLimitBytes = Int(try Self.bytes(value, key, fail))
                case "cpus":
                    guard let cpus = value as? Double, cpus > 0 else { throw fail("\"cpus\" must be a positive number") }
                    limits.cpuQuota = Int(cpus * 100_000)
                case "pids":
                    guard let pids = value as? Int else { throw fail("\"pids\" must be an integer") }
                    limits.pidsLimit = pids
                case "timeout":
                    guard let seconds = value as? Double else { throw fail("\"timeout\" must be seconds") }
                    limits.timeoutSeconds = seconds
                case "buildTimeout":
                    guard let seconds = value as? Double else { throw fail("\"buildTimeout\" must be seconds") }
                    limits.buildTimeoutSeconds = seconds
                default: throw fail("unknown limit \"\(key)\"")
                }
            }
        }
        if let languagesValue = root["languages"] {
            guard let object = languagesValue as? [String: Any] else { throw fail("\"languages\" must be an object") }
            for (name, value) in object {
                guard let fields = value as? [String: Any] else { throw fail("language \"\(name)\" must be an object") }
                let existing = catalog.languages.firstIndex { $0.name == name }
                var language = existing.map { catalog.languages[$0] }
                    ?? Language(name: name, extensions: [], image: "", fileName: "main", buildCommand: nil, runCommand: "", loader: .shell)
                for (key, field) in fields {
                    switch key {
                    case "image", "file", "build", "run", "loader":
                        guard let text = field as? String else { throw fail("\(name).\(key) must be a string") }
                        switch key {
                        case "image": language.image = text
                        case "file": language.fileName = text
                        case "build": language.buildCommand = text.isEmpty ? nil : text
                        case "run": language.runCommand = text
                        default:
                            guard let kind = LoaderKind(rawValue: text) else { throw fail("\(name).loader must be python, node or shell") }
                            language.loader = kind
                        }
                    case "extensions":
                        guard let list = field as? [String] else { throw fail("\(name).extensions must be a list of strings") }
                        language.extensions = list
                    case "env":
                        guard let env = field as? [String: String] else { throw fail("\(name).env must map names to strings") }
                        language.environment.merge(env) { $1 }
                    default: throw fail("unknown field \(name).\(key)")
                    }
                }
                if language.image.isEmpty || language.runCommand.isEmpty {
                    throw fail("new language \"\(name)\" needs at least \"image\" and \"run\"")
                }
                if let existing { catalog.languages[existing] = language } else { catalog.languages.append(language) }
            }
        }
    }

    private static func bytes(_ value: Any, _ key: String, _ fail: (String) -> RunnerError) throws -> Int64 {
        if let number = value as? Int, number > 0 { return Int64(number) }
        if let text = value as? String, let parsed = RunLimits.parseByteSize(text), parsed > 0 { return parsed }
        throw fail("\"\(key)\" must be a size such as \"128m\" or a number of bytes")
    }
}
