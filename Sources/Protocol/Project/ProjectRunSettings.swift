import Foundation

/// A shared folder's own way to run, from `.codesync.json` at its top as the host's disk holds it
/// (`{"run": "python -m pytest -q", "build": "...", "language": "python"}`). Sent to every peer in
/// the welcome and as `run.config` when it changes, so a guest sees the command before it can
/// trigger it. The session's copy of the file (a guest's unsaved edit) never counts: the host's
/// saved file is read again at each run.
public struct ProjectRunSettings: Codable, Equatable, Sendable {
    /// The file's name, at the shared folder's top.
    public static let fileName = ".codesync.json"
    /// A `.codesync.json` larger than this is not read.
    public static let maxFileBytes = 16 << 10
    /// A command longer than this (bytes of UTF-8) is refused.
    public static let maxCommandBytes = 1024

    /// The shell command every run in the session runs, at the project's top, in the sandbox.
    public var command: String?
    /// A shell command run first, under the build time limit.
    public var build: String?
    /// The language whose image runs the command (absent: from the file run, else Python).
    public var language: String?
    /// Why the host's `.codesync.json` is not used: runs are refused until it is fixed.
    public var problem: String?

    private enum CodingKeys: String, CodingKey { case command = "run", build, language, problem }

    public init(command: String? = nil, build: String? = nil, language: String? = nil, problem: String? = nil) {
        self.command = command; self.build = build; self.language = language; self.problem = problem
    }

    /// No `.codesync.json` (or an empty one): each run runs the requested file.
    public var isEmpty: Bool { command == nil && build == nil && language == nil && problem == nil }

    /// One line for people, e.g. `python -m pytest -q (from .codesync.json)`.
    public var summary: String {
        if let problem { return "runs refused: \(problem)" }
        guard let command else { return "runs the file asked for" }
        return (build.map { "\($0) && " } ?? "") + command + " (from \(Self.fileName))"
    }

    // Hostile content must not reach a peer's screen either: every field is checked again on receipt.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decodeIfPresent(String.self, forKey: .command)
        build = try container.decodeIfPresent(String.self, forKey: .build)
        language = try container.decodeIfPresent(String.self, forKey: .language)
        problem = try container.decodeIfPresent(String.self, forKey: .problem)
        for (key, value) in [("run", command), ("build", build), ("language", language)] {
            if let value, let why = Self.textProblem(value, key: key) {
                throw DecodingError.dataCorruptedError(forKey: .command, in: container, debugDescription: why)
            }
        }
        if let problem, problem.utf8.count > 4096 || problem.unicodeScalars.contains(where: { ProjectPath.forbidden($0) != nil }) {
            throw DecodingError.dataCorruptedError(forKey: .problem, in: container, debugDescription: "a run.config problem must be one line of at most 4096 bytes")
        }
    }

    /// Reads `.codesync.json` at the top of the folder at `root` (never through a symlink, never
    /// more than `maxFileBytes`). A missing file gives empty settings; a bad one, settings with
    /// only a `problem` that says what is wrong.
    public static func read(root: String) -> ProjectRunSettings {
        let folder = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return ProjectRunSettings(problem: "the shared folder cannot be read") }
        defer { close(folder) }
        let fd = openat(folder, fileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: return ProjectRunSettings()
            case ELOOP: return ProjectRunSettings(problem: "\(fileName) is a symlink; it is not followed")
            default: return ProjectRunSettings(problem: "\(fileName) cannot be read: \(String(cString: strerror(errno)))")
            }
        }
        defer { close(fd) }
        let bytes: [UInt8]
        do {
            bytes = try ProjectTree.readRegular(fd, limit: maxFileBytes)
        } catch ProjectTree.ReadFailure.tooLarge(let size) {
            return ProjectRunSettings(problem: "\(fileName) is \(size) bytes (at most \(maxFileBytes >> 10) KiB)")
        } catch ProjectTree.ReadFailure.notRegular {
            return ProjectRunSettings(problem: "\(fileName) is not a regular file")
        } catch {
            return ProjectRunSettings(problem: "\(fileName) cannot be read")
        }
        return parse(bytes)
    }

    /// Parses the file's bytes (see `read`).
    public static func parse(_ bytes: [UInt8]) -> ProjectRunSettings {
        func bad(_ why: String) -> ProjectRunSettings { ProjectRunSettings(problem: "\(fileName): \(why)") }
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return ProjectRunSettings() }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            return bad("not a JSON object")
        }
        var settings = ProjectRunSettings()
        for key in object.keys.sorted() {
            let shownKey = String(key.unicodeScalars.filter { ProjectPath.forbidden($0) == nil }.prefix(40).map(Character.init))
            guard ["run", "build", "language"].contains(key) else { return bad("unknown key \"\(shownKey)\" (run, build, language)") }
            guard let text = object[key] as? String else { return bad("\"\(key)\" must be a string") }
            if let why = textProblem(text, key: key) { return bad(why) }
            switch key {
            case "run": settings.command = text
            case "build": settings.build = text
            default: settings.language = text
            }
        }
        if settings.command == nil && (settings.build != nil || settings.language != nil) {
            return bad("\"build\" and \"language\" need a \"run\" command")
        }
        return settings
    }

    /// Why `text` cannot be the value of `key`, nil when it can: one visible line of bounded length
    /// (a command that reads differently on screen than what runs is a trap for whoever checks it).
    static func textProblem(_ text: String, key: String) -> String? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "\"\(key)\" is empty" }
        if key == "language" {
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789+-_")
            return text.count <= 32 && text.allSatisfy(allowed.contains) ? nil : "\"language\" must be a short name such as python, go or c"
        }
        if text.utf8.count > maxCommandBytes { return "\"\(key)\" is \(text.utf8.count) bytes (at most \(maxCommandBytes))" }
        for scalar in text.unicodeScalars where scalar != "\t" {
            if let why = ProjectPath.forbidden(scalar) { return "\"\(key)\" holds \(why): one line of visible text only" }
        }
        return nil
    }
}

/// What a run in a shared folder needs from the host's session (`SessionServer.projectRunSources`).
public struct ProjectRunSources: Sendable, Equatable {
    /// The folder's real path.
    public var root: String
    /// The file to run as its real path relative to `root` (nil: none was named).
    public var file: String?
    /// The session's text of every open file, by its real relative path (unsaved edits included).
    public var texts: [String: String]
    /// `.codesync.json` as the host's disk holds it now.
    public var settings: ProjectRunSettings

    public init(root: String, file: String?, texts: [String: String], settings: ProjectRunSettings) {
        self.root = root; self.file = file; self.texts = texts; self.settings = settings
    }
}
