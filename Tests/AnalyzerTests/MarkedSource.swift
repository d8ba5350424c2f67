import Foundation

/// A Python snippet with a 1️⃣ marker on the line the analyzer should name as dominating.
/// The marker is stripped before analysis; its line (1-based) is remembered.
struct MarkedSource {
    let source: String
    let markedLine: Int?

    init(_ marked: String) {
        var line = 1
        var found: Int?
        for ch in marked {
            if ch == "\n" { line += 1 }
            if ch == "1️⃣" { found = line }
        }
        source = marked.replacingOccurrences(of: "1️⃣", with: "")
        markedLine = found
    }
}
