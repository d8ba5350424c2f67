/// Fuzzy matching of typed text against file paths, for the open-file picker (Ctrl-O): the typed
/// characters must appear in the path in order, case-insensitively; matches at the start of a path
/// component or word, runs of consecutive characters and matches in the file's own name rank first.
public enum FuzzyMatch {
    /// The score of `query` against `path` (higher is better); nil when the query's characters do
    /// not all appear in `path` in order. An empty query matches everything with score 0.
    public static func score(_ query: String, in path: String) -> Int? {
        let needle = lowered(query)
        guard !needle.isEmpty else { return 0 }
        let hay = Array(path.unicodeScalars)
        let lowerHay = hay.map(lower)
        let nameStart = (hay.lastIndex(of: "/") ?? -1) + 1
        // Two greedy passes: from the start of the path, and from the start of the file's name (so
        // "main" prefers src/main.swift's name to the m, a, i, n scattered through its folders).
        let passes = [0, nameStart]
        var best: Int?
        for start in Set(passes) {
            if let score = greedy(needle, lowerHay, hay, from: start, nameStart: nameStart) {
                best = max(best ?? score, score)
            }
        }
        return best
    }

    /// Indices of `paths` that match `query`, best first (equal scores: shorter path, then path order).
    public static func rank(_ query: String, _ paths: [String]) -> [Int] {
        if query.isEmpty { return Array(paths.indices) }
        var scored: [(index: Int, score: Int, length: Int)] = []
        for (index, path) in paths.enumerated() {
            if let score = score(query, in: path) { scored.append((index, score, path.unicodeScalars.count)) }
        }
        scored.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.length != b.length { return a.length < b.length }
            return a.index < b.index
        }
        return scored.map(\.index)
    }

    private static func greedy(_ needle: [Unicode.Scalar], _ lowerHay: [Unicode.Scalar], _ hay: [Unicode.Scalar], from: Int, nameStart: Int) -> Int? {
        var score = 0
        var position = from
        var previous = -2
        for scalar in needle {
            var found = -1
            var i = position
            while i < lowerHay.count {
                if lowerHay[i] == scalar { found = i; break }
                i += 1
            }
            guard found >= 0 else { return nil }
            score += 1
            if found == previous + 1 { score += 6 }
            if isBoundary(hay, found) { score += 8 }
            if found >= nameStart { score += 3 }
            previous = found
            position = found + 1
        }
        return score
    }

    /// The start of the path, of a component, of a word (after `_ - . space`), or a capital after a lower-case letter.
    private static func isBoundary(_ hay: [Unicode.Scalar], _ i: Int) -> Bool {
        guard i > 0 else { return true }
        let before = hay[i - 1]
        if before == "/" || before == "_" || before == "-" || before == "." || before == " " { return true }
        return hay[i].properties.isUppercase && before.properties.isLowercase
    }

    private static func lowered(_ text: String) -> [Unicode.Scalar] { text.unicodeScalars.map(lower) }

    private static func lower(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        // One scalar in, one out: a lower-case mapping that expands (rare) keeps the scalar as it is.
        let mapped = scalar.properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first! : scalar
    }
}
