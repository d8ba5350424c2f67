import Foundation
import Testing
import CodeSyncTestSupport

/// The editor core stays pure (no Foundation, no C library, no curses, no locale), so screens render
/// the same on every machine and the core is tested without a terminal. Checked from the sources
/// themselves: Package.swift's EditorCore target, every target it depends on (transitively), and
/// every Swift file under their folders. A new import or dependency fails here, not in review.
@Suite(.ownThreads) struct PurityTests {
    /// A `.target(...)` of Package.swift, as far as this check needs it.
    struct Target {
        var name: String
        var path: String
        var dependencies: [String]
        var excluded: [String]
        /// `.product(...)` dependencies (packages: NIO, Crypto, ...), by their text.
        var products: [String]
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Modules that bring Foundation, the C library, curses or sockets into whatever imports them.
    static let forbiddenModules: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationInternationalization", "Glibc", "Musl", "Darwin", "CNcursesw",
        "CodeSyncBase", "CodeSyncProtocol", "CodeSyncRunner", "CodeSyncTUI", "CodeSyncApp", "NIOCore", "NIOPosix",
    ]
    /// Locale-dependent C calls the core replaced (its width table, not the C library's `wcwidth`).
    static let forbiddenCalls = ["setlocale", "wcwidth", "wcswidth"]

    /// Every `.target(` / `.executableTarget(` / `.testTarget(` / `.systemLibrary(` block, by name.
    static func targets(in text: String) -> [String: Target] {
        var found: [String: Target] = [:]
        var searchFrom = text.startIndex
        let openers = [".target(", ".executableTarget(", ".testTarget(", ".systemLibrary("]
        while let match = openers.compactMap({ text.range(of: $0, range: searchFrom..<text.endIndex) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            // The block runs to its matching parenthesis.
            var depth = 1
            var index = match.upperBound
            while index < text.endIndex, depth > 0 {
                if text[index] == "(" { depth += 1 } else if text[index] == ")" { depth -= 1 }
                index = text.index(after: index)
            }
            let block = String(text[match.upperBound..<index])
            searchFrom = index
            guard let name = firstCapture(#"name:\s*"([^"]+)""#, in: block) else { continue }
            let path = firstCapture(#"path:\s*"([^"]+)""#, in: block) ?? "Sources/\(name)"
            let dependencyList = listText(after: "dependencies:", in: block)
            let excluded = strings(in: listText(after: "exclude:", in: block))
            // Products are written `.product(name: "X", package: "y")`: taken apart from plain names.
            var products: [String] = []
            var plain = dependencyList
            while let product = plain.range(of: #"\.product\([^)]*\)"#, options: .regularExpression) {
                products.append(String(plain[product]))
                plain.removeSubrange(product)
            }
            found[name] = Target(name: name, path: path, dependencies: strings(in: plain), excluded: excluded, products: products)
        }
        return found
    }

    static func firstCapture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }

    /// The text of the bracketed list after `label` (nested brackets included), empty when absent.
    static func listText(after label: String, in block: String) -> String {
        guard let start = block.range(of: label), let open = block[start.upperBound...].firstIndex(of: "[") else { return "" }
        var depth = 0
        var index = open
        while index < block.endIndex {
            if block[index] == "[" { depth += 1 } else if block[index] == "]" { depth -= 1; if depth == 0 { break } }
            index = block.index(after: index)
        }
        return String(block[block.index(after: open)..<min(index, block.endIndex)])
    }

    static func strings(in list: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #""([^"]+)""#) else { return [] }
        return regex.matches(in: list, range: NSRange(list.startIndex..., in: list)).compactMap {
            Range($0.range(at: 1), in: list).map { String(list[$0]) }
        }
    }

    /// A Swift line without its `//` comment (string literals holding `//` are rare enough in these
    /// modules; a false alarm would show in the failure message, never a missed import).
    static func code(_ line: Substring) -> Substring {
        guard let comment = line.range(of: "//") else { return line }
        return line[..<comment.lowerBound]
    }

    /// What is wrong with one source file: forbidden imports and calls, with line numbers.
    static func problems(in source: String, file: String) -> [String] {
        var found: [String] = []
        var inBlockComment = false
        for (number, rawLine) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine
            if inBlockComment {
                guard let end = line.range(of: "*/") else { continue }
                line = line[end.upperBound...]
                inBlockComment = false
            }
            if let start = line.range(of: "/*"), line.range(of: "*/", range: start.upperBound..<line.endIndex) == nil {
                line = line[..<start.lowerBound]
                inBlockComment = true
            }
            let code = Self.code(line)
            let words = code.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "@") })
            if let importAt = words.firstIndex(of: "import"), importAt + 1 < words.count {
                // `import X`, `@_spi(Y) import X`, `import struct X.Y`, `@preconcurrency import X`.
                let rest = words[(importAt + 1)...].filter { !["struct", "class", "enum", "func", "protocol", "typealias", "var", "let"].contains($0) }
                if let module = rest.first, forbiddenModules.contains(String(module)) {
                    found.append("\(file):\(number + 1): imports \(module)")
                }
            }
            for call in forbiddenCalls where words.contains(Substring(call)) {
                found.append("\(file):\(number + 1): uses \(call)")
            }
        }
        return found
    }

    @Test func editorCoreAndItsDependenciesImportNothingImpure() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = Self.targets(in: manifest)
        let core = try #require(targets["EditorCore"], "Package.swift has no EditorCore target (renamed? update this check)")
        #expect(Set(core.dependencies) == ["CodeSyncDocument", "CodeSyncAnalyzer"], "EditorCore depends on \(core.dependencies)")

        // The closure of EditorCore's dependencies, each checked.
        var queue = ["EditorCore"]
        var seen: Set<String> = []
        var problems: [String] = []
        var scanned: [String] = []
        while let name = queue.popLast() {
            guard seen.insert(name).inserted else { continue }
            if Self.forbiddenModules.contains(name) { problems.append("EditorCore depends (through \(seen.sorted())) on \(name)") }
            guard let target = targets[name] else {
                problems.append("EditorCore depends on \(name), which is not a target of Package.swift")
                continue
            }
            for product in target.products { problems.append("\(name) depends on a package product: \(product)") }
            queue += target.dependencies
            let folder = Self.root.appendingPathComponent(target.path)
            guard let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in files where url.pathExtension == "swift" {
                let relative = String(url.path.dropFirst(folder.path.count + 1))
                if target.excluded.contains(where: { relative == $0 || relative.hasPrefix($0 + "/") }) { continue }
                scanned.append("\(name)/\(relative)")
                problems += Self.problems(in: try String(contentsOf: url, encoding: .utf8), file: "\(target.path)/\(relative)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        // The walk really read the modules (a wrong path would otherwise pass in silence).
        #expect(seen.isSuperset(of: ["EditorCore", "CodeSyncDocument", "CodeSyncAnalyzer"]), "\(seen)")
        #expect(scanned.contains("EditorCore/TerminalSanitizer.swift") && scanned.contains("EditorCore/EditorModel.swift"), "\(scanned)")
        #expect(scanned.count(where: { $0.hasPrefix("CodeSyncDocument/") }) >= 5 && scanned.count(where: { $0.hasPrefix("CodeSyncAnalyzer/") }) >= 3, "\(scanned)")
    }

    /// The check itself finds what it must (and not what only a comment says).
    @Test func theCheckCatchesImportsAndCallsButNotComments() {
        let bad = """
            import Foundation
            @preconcurrency import Glibc
            @_implementationOnly import CNcursesw
            import struct CodeSyncRunner.Sandbox
            let width = wcwidth(0x41) // fine
            func f() { setlocale(LC_ALL, "") }
            """
        let found = Self.problems(in: bad, file: "x.swift")
        #expect(found == [
            "x.swift:1: imports Foundation", "x.swift:2: imports Glibc", "x.swift:3: imports CNcursesw",
            "x.swift:4: imports CodeSyncRunner", "x.swift:5: uses wcwidth", "x.swift:6: uses setlocale",
        ], "\(found)")
        let fine = """
            /// Without Foundation: `import Foundation` would bring the locale.
            /* wcwidth(3) is locale-dependent;
               setlocale too */
            import CodeSyncDocument
            let importance = 1
            """
        #expect(Self.problems(in: fine, file: "y.swift").isEmpty, "\(Self.problems(in: fine, file: "y.swift"))")
    }

    @Test func theManifestReaderSeesEveryTargetsDependencies() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = Self.targets(in: manifest)
        // Known facts of the manifest, so a reader that stopped seeing dependencies cannot pass the check above.
        #expect(targets["CodeSyncTUI"]?.dependencies.contains("CNcursesw") == true)
        #expect(targets["CodeSyncProtocol"]?.products.contains { $0.contains("NIOCore") } == true)
        #expect(targets["CodeSyncDocument"]?.path == "Sources/Protocol/Document")
        #expect(targets["CodeSyncProtocol"]?.excluded == ["Document"])
    }
}
