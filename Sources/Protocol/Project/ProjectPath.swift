/// A path inside a shared project as peers name it: relative, `/`-separated, already normal. Pure:
/// the syntax only; `ProjectTree.check` adds the ignore rules and the file system.
public struct ProjectPath: Hashable, Sendable, CustomStringConvertible {
    /// The path as given, e.g. `src/main.py`.
    public let string: String
    /// Its components.
    public let components: [String]

    /// Longest path accepted, in bytes of UTF-8 (Linux's PATH_MAX).
    public static let maxBytes = 4096
    /// Longest component accepted, in bytes (Linux's NAME_MAX).
    public static let maxComponentBytes = 255
    /// Deepest path accepted.
    public static let maxDepth = 64

    /// Checks the syntax of a path a peer sent. Refused, with the rule it breaks: empty, too long or
    /// too deep, absolute, `.` or `..` or empty components (so there is one spelling per file, and no
    /// way up), a trailing `/`, NUL or other control characters, and bidirectional or invisible
    /// formatting characters (a name that reads differently on screen than on disk).
    public init(_ string: String) throws(ProjectError) {
        let bytes = string.utf8.count
        guard bytes > 0 else { throw .badPath("an empty path") }
        guard bytes <= Self.maxBytes else { throw .badPath("a path of \(bytes) bytes (at most \(Self.maxBytes))") }
        guard !string.hasPrefix("/") else { throw .badPath("an absolute path (\(Self.shown(string))): paths are relative to the shared folder") }
        for scalar in string.unicodeScalars {
            if let why = Self.forbidden(scalar) { throw .badPath("a path with \(why) in it") }
        }
        let parts = string.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= Self.maxDepth else { throw .badPath("a path \(parts.count) folders deep (at most \(Self.maxDepth))") }
        for part in parts {
            switch part {
            case "": throw .badPath("\(Self.shown(string)): empty component (a doubled or trailing /)")
            case ".": throw .badPath("\(Self.shown(string)): '.' is not allowed in a path")
            case "..": throw .badPath("\(Self.shown(string)): '..' is not allowed in a path")
            default:
                if part.utf8.count > Self.maxComponentBytes {
                    throw .badPath("a name of \(part.utf8.count) bytes (at most \(Self.maxComponentBytes))")
                }
            }
        }
        self.string = string
        self.components = parts
    }

    /// Made from components known to be good (the tree walk's own names).
    init(trusted components: [String]) {
        self.components = components
        self.string = components.joined(separator: "/")
    }

    public var description: String { string }

    /// The folder part, nil at the top.
    public var parent: ProjectPath? { components.count > 1 ? ProjectPath(trusted: Array(components.dropLast())) : nil }

    /// Why a character may not be in a path, nil when it may.
    static func forbidden(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0: return "a NUL byte"
        case 0x01...0x1F, 0x7F, 0x80...0x9F: return "a control character"
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF, 0x061C:
            return "an invisible or bidirectional formatting character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
        default: return nil
        }
    }

    /// A peer's path, cut short for an error message.
    static func shown(_ string: String) -> String {
        string.count <= 80 ? "'\(string)'" : "'\(string.prefix(80))…'"
    }
}

/// What went wrong with a project file; the message says what and, where it helps, what to do.
public enum ProjectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path breaks a syntax rule (see `ProjectPath.init`).
    case badPath(String)
    /// The path is fine but names nothing that may be shared or touched.
    case refused(String)
    /// The file system said no.
    case io(String)

    public var description: String {
        switch self {
        case .badPath(let why): "refused \(why)"
        case .refused(let why), .io(let why): why
        }
    }
}
