/// Finds the loader's "build succeeded" marker in the stderr byte stream, across chunk boundaries.
///
/// Bytes before the marker are build output; bytes after it are the program's own stderr. Only the
/// tail that could still be the start of the marker is held back.
struct MarkerSplitter: Sendable {
    let marker: [UInt8]
    private var held: [UInt8] = []
    private(set) var found = false

    init(marker: [UInt8]) { self.marker = marker }

    /// Feeds stderr bytes; returns the bytes to emit before the marker and after it (nil until found).
    mutating func feed(_ bytes: [UInt8]) -> (before: [UInt8], after: [UInt8]?) {
        if found { return ([], bytes) }
        let data = held + bytes
        if let index = Self.firstIndex(of: marker, in: data) {
            found = true
            held = []
            return (Array(data[..<index]), Array(data[(index + marker.count)...]))
        }
        // Keep the longest suffix that is a prefix of the marker.
        var keep = min(marker.count - 1, data.count)
        while keep > 0 && Array(data[(data.count - keep)...]) != Array(marker[..<keep]) { keep -= 1 }
        held = Array(data[(data.count - keep)...])
        return (Array(data[..<(data.count - keep)]), nil)
    }

    /// Bytes still held back (emit them when the stream ends without the marker).
    mutating func flush() -> [UInt8] {
        defer { held = [] }
        return held
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
