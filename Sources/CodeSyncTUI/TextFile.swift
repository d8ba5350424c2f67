import CodeSyncProtocol
import Foundation

/// Reading and atomically writing the UTF-8 text file the editor works on.
public enum TextFile {
    /// A file problem with a message naming the fix.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The file's text, or nil when it does not exist yet (it is created on the first save).
    public static func load(_ path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) {
                throw Failure(description: "\(path): folder \(parent) does not exist; create it first or pick another path")
            }
            return nil
        }
        if isDirectory.boolValue { throw Failure(description: "\(path) is a directory; give the path of a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path): permission denied or unreadable; check its permissions")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw Failure(description: "\(path) is not UTF-8 text; codesync edits UTF-8 files only")
        }
        return text
    }

    /// Writes `text` to a temporary file beside `path`, then renames it over `path`, so a crash never
    /// leaves half a file. Follows a symlink (the link stays) and keeps the target's permissions.
    public static func save(_ text: String, to path: String) throws {
        do {
            try AtomicFile.write(text, to: URL(fileURLWithPath: path))
        } catch let error as SessionError {
            if case .file(let message) = error { throw Failure(description: message) }
            throw Failure(description: "cannot write \(path): \(error)")
        }
    }
}
