import Foundation

/// Facts about the environment the tests run in, and the rule for missing prerequisites.
public enum TestEnvironment {
    /// True under CI (`CI=true`): a missing prerequisite fails the test instead of skipping it.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// Environment variable lookup.
    public static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name]
    }

    /// The package root, found from a source file's path inside `Tests/`.
    public static func packageRoot(file: StaticString = #filePath) -> URL {
        var url = URL(fileURLWithPath: "\(file)")
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// The read-only shared data folder (`../shared` beside the checkout), or `CODESYNC_SHARED`.
    public static var sharedDirectory: URL {
        if let explicit = value("CODESYNC_SHARED") { return URL(fileURLWithPath: explicit) }
        return packageRoot().deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// Returns the shared data file at `relativePath`, nil (with a one-line notice) when it is
    /// missing outside CI; under CI a missing file is an error.
    public static func sharedFile(_ relativePath: String) throws -> URL? {
        let url = sharedDirectory.appendingPathComponent(relativePath)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        return try missing("shared data file \(url.path)")
    }

    /// The built `codesync` binary: `CODESYNC_BIN`, else beside the test bundle, else `.build/debug`.
    public static func codesyncBinary() throws -> URL {
        if let explicit = value("CODESYNC_BIN") { return URL(fileURLWithPath: explicit) }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("codesync")]
        // On Linux the XCTest bundle is a directory; its executable sits inside it.
        candidates.append(testBinary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("codesync"))
        candidates.append(packageRoot().appendingPathComponent(".build/debug/codesync"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw PrerequisiteMissing(
            what: "the codesync binary (looked in \(candidates.map(\.path).joined(separator: ", ")))",
            fix: "run `swift build` first, or set CODESYNC_BIN")
    }

    /// Handles a missing prerequisite: under CI throws, elsewhere prints a one-line notice and returns nil.
    public static func missing<T>(_ what: String, fix: String = "") throws -> T? {
        if isCI { throw PrerequisiteMissing(what: what, fix: fix) }
        print("skipped: \(what) is missing\(fix.isEmpty ? "" : " (\(fix))")")
        return nil
    }
}

/// A prerequisite of a test (Docker, tmux, a data file) is not available.
public struct PrerequisiteMissing: Error, CustomStringConvertible {
    public var what: String
    public var fix: String
    public var description: String { "\(what) is missing\(fix.isEmpty ? "" : " — \(fix)")" }
}
