/// How the container receives the program: the loader that reads the source from stdin.
public enum LoaderKind: String, Codable, Sendable, Hashable {
    /// A Python interpreter that reads the source and runs it in-process (fastest for the pool).
    case python
    /// A Node.js process that reads the source, writes it to /tmp and runs it as the main module.
    case node
    /// A POSIX shell that writes the source to /tmp, runs the build command, then the run command.
    case shell
}

/// A language as data: image, file name, build and run commands.
public struct Language: Sendable, Hashable, Codable {
    /// Short name used by `--lang` and in config (`python`, `node`, `go`, `c`, `cpp`).
    public var name: String
    /// File extensions (without dot) that select this language.
    public var extensions: [String]
    /// Image the sandbox runs.
    public var image: String
    /// File name of the source inside the container's /tmp.
    public var fileName: String
    /// Shell command run in /tmp before the program, for compiled languages; its failure is a compile error.
    public var buildCommand: String?
    /// Shell command that runs the program in /tmp (used by the shell loader).
    public var runCommand: String
    public var loader: LoaderKind
    /// Extra environment for the container (e.g. Go's cache on the writable tmpfs).
    public var environment: [String: String]

    public init(
        name: String, extensions: [String], image: String, fileName: String, buildCommand: String?,
        runCommand: String, loader: LoaderKind, environment: [String: String] = [:]
    ) {
        self.name = name
        self.extensions = extensions
        self.image = image
        self.fileName = fileName
        self.buildCommand = buildCommand
        self.runCommand = runCommand
        self.loader = loader
        self.environment = environment
    }

    /// True when the language has a build step (it then needs an executable /tmp).
    public var isCompiled: Bool { buildCommand != nil }

    public static let python = Language(
        name: "python", extensions: ["py"], image: "python:3.12-alpine", fileName: "main.py",
        buildCommand: nil, runCommand: "python3 -u main.py", loader: .python)
    public static let node = Language(
        name: "node", extensions: ["js", "mjs", "cjs"], image: "node:22-alpine", fileName: "main.js",
        buildCommand: nil, runCommand: "node main.js", loader: .node)
    public static let go = Language(
        name: "go", extensions: ["go"], image: "golang:1.23-alpine", fileName: "main.go",
        buildCommand: "go build -o main main.go", runCommand: "./main", loader: .shell,
        // Keep the toolchain's default build flags: changing CGO_ENABLED or -trimpath makes Go rebuild the
        // whole standard library into the (empty, per-run) cache, 10x slower than hello world itself.
        environment: ["GOCACHE": "/tmp/.gocache", "GOPATH": "/tmp/.gopath", "GO111MODULE": "off", "GOTOOLCHAIN": "local"])
    public static let c = Language(
        name: "c", extensions: ["c"], image: "gcc:14", fileName: "main.c",
        buildCommand: "gcc -O2 -pipe -o main main.c -lm", runCommand: "./main", loader: .shell)
    public static let cpp = Language(
        name: "cpp", extensions: ["cpp", "cc", "cxx", "c++"], image: "gcc:14", fileName: "main.cpp",
        buildCommand: "g++ -O2 -pipe -o main main.cpp", runCommand: "./main", loader: .shell)

    /// The built-in languages; Python is the default.
    public static let builtIn: [Language] = [.python, .node, .go, .c, .cpp]
}

/// The languages a sandbox knows, after config and environment overrides.
public struct LanguageCatalog: Sendable, Equatable {
    public var languages: [Language]

    public init(_ languages: [Language] = Language.builtIn) {
        self.languages = languages
    }

    /// The language called `name` (case-insensitive; `py`, `js`, `golang`, `c++` accepted too).
    public func named(_ name: String) throws -> Language {
        let key = name.lowercased()
        let aliases = ["py": "python", "python3": "python", "js": "node", "javascript": "node", "nodejs": "node",
                       "golang": "go", "c++": "cpp", "cxx": "cpp"]
        let wanted = aliases[key] ?? key
        if let found = languages.first(where: { $0.name == wanted }) { return found }
        throw RunnerError.unknownLanguage(name, known: languages.map(\.name))
    }

    /// The language for a file name by its extension; nil when the extension is unknown.
    public func forFile(_ path: String) -> Language? {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return nil }
        let ext = base[base.index(after: dot)...].lowercased()
        return languages.first { $0.extensions.contains(ext) }
    }
}
