/// One line of a `.gitignore` or `.codesyncignore`, compiled: the common gitignore syntax (globs
/// `*` `?` `[a-z]` `[!x]`, `**` across folders, `!` negation, a trailing `/` for folders only, a
/// slash elsewhere anchoring the pattern to the file's folder). Pure: no I/O.
public struct IgnorePattern: Equatable, Sendable {
    /// The pattern's components, split at `/` (`**` kept as a component of its own).
    let components: [String]
    /// `!pattern`: a match re-includes what an earlier pattern excluded.
    public let negated: Bool
    /// `pattern/`: matches folders only.
    public let directoryOnly: Bool
    /// No slash but a trailing one: the pattern matches a name at any depth.
    let basenameOnly: Bool

    /// Compiles one line; nil for blank lines, comments and lines that can match nothing.
    public init?(line raw: Substring) {
        var line = Self.trimTrailingSpaces(raw)
        guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
        var negated = false
        if line.hasPrefix("!") {
            negated = true
            line = line.dropFirst()
        } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
            line = line.dropFirst()
        }
        var directoryOnly = false
        while line.hasSuffix("/") {
            directoryOnly = true
            line = line.dropLast()
        }
        guard !line.isEmpty else { return nil }
        let anchored = line.contains("/")
        if line.hasPrefix("/") { line = line.dropFirst() }
        let parts = line.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !parts.isEmpty else { return nil }
        self.negated = negated
        self.directoryOnly = directoryOnly
        self.basenameOnly = !anchored
        self.components = parts
    }

    /// Trailing spaces end a pattern unless escaped with a backslash.
    private static func trimTrailingSpaces(_ line: Substring) -> Substring {
        var end = line.endIndex
        while end > line.startIndex {
            let before = line.index(before: end)
            guard line[before] == " " || line[before] == "\r" else { break }
            if line[before] == " ", before > line.startIndex, line[line.index(before: before)] == "\\" { break }
            end = before
        }
        return line[line.startIndex..<end]
    }

    /// Does this pattern match `path` (components relative to the ignore file's folder)?
    public func matches(_ path: ArraySlice<String>, isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        guard let last = path.last else { return false }
        if basenameOnly { return Glob.matches(components[0], last) }
        return Self.match(components[...], path)
    }

    /// Components against components, `**` standing for any number of folders (zero included).
    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return !path.isEmpty }  // `foo/**`: everything inside foo, not foo itself
            var tail = path
            while true {
                if match(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        }
        guard let name = path.first, Glob.matches(first, name) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

/// Wildcards within one path component: `*`, `?`, `[...]` (with `!` or `^` negation and ranges),
/// `\` escaping the next character. Iterative with one backtrack point, so linear-ish on any input.
enum Glob {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.unicodeScalars), s = Array(name.unicodeScalars)
        var pi = 0, si = 0
        var starP = -1, starS = 0
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    starP = pi
                    starS = si
                    pi += 1
                    continue
                case "?":
                    pi += 1
                    si += 1
                    continue
                case "[":
                    if let (matched, next) = bracket(p, at: pi, s[si]) {
                        if matched {
                            pi = next
                            si += 1
                            continue
                        }
                    } else if s[si] == "[" {
                        // An unclosed `[` is a literal.
                        pi += 1
                        si += 1
                        continue
                    }
                case "\\" where pi + 1 < p.count:
                    if p[pi + 1] == s[si] {
                        pi += 2
                        si += 1
                        continue
                    }
                default:
                    if p[pi] == s[si] {
                        pi += 1
                        si += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            pi = starP + 1
            starS += 1
            si = starS
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// A bracket expression at `start`: whether `c` is in it, and the index after it; nil when unclosed.
    private static func bracket(_ p: [Unicode.Scalar], at start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && (p[i] == "!" || p[i] == "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == "]" && !first { return (matched != negate, i + 1) }
            first = false
            var low = p[i]
            if low == "\\" && i + 1 < p.count {
                i += 1
                low = p[i]
            }
            if i + 2 < p.count && p[i + 1] == "-" && p[i + 2] != "]" {
                let high = p[i + 2]
                if low.value <= c.value && c.value <= high.value { matched = true }
                i += 3
            } else {
                if low == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}

/// The ignore files of one folder, compiled in order (`.gitignore` first, then `.codesyncignore`, so
/// the latter can re-include with `!`).
public struct IgnoreFile: Sendable {
    public let patterns: [IgnorePattern]

    /// Compiles the lines of ignore files' text.
    public init(text: String) {
        patterns = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }).compactMap(IgnorePattern.init(line:))
    }

    init(patterns: [IgnorePattern]) { self.patterns = patterns }
}

/// The ignore files that apply at one place in the tree: the root's, then each folder's down to the
/// file's, each matching paths relative to its own folder. The last pattern that matches decides
/// (deeper files win over shallower ones, later lines over earlier ones), as in git.
public struct IgnoreStack: Sendable {
    /// (depth of the folder the file is in, its patterns)
    private var levels: [(depth: Int, file: IgnoreFile)] = []

    public init() {}

    /// A stack with the patterns of the folder at `depth` (0: the root) on top.
    public func pushing(_ file: IgnoreFile, depth: Int) -> IgnoreStack {
        guard !file.patterns.isEmpty else { return self }
        var copy = self
        copy.levels.append((depth, file))
        return copy
    }

    /// Is `path` (components from the root) ignored?
    public func ignores(_ path: [String], isDirectory: Bool) -> Bool {
        // `.git` is never shared: it holds the history, hooks and credentials of a remote.
        if path.last == ".git" { return true }
        var ignored = false
        for level in levels where level.depth < path.count {
            let relative = path[level.depth...]
            for pattern in level.file.patterns where pattern.negated == ignored {
                if pattern.matches(relative, isDirectory: isDirectory) { ignored = !pattern.negated }
            }
        }
        return ignored
    }
}
