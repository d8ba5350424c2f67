import Foundation

/// What a listed file is, as far as sharing goes.
public enum ProjectFileKind: String, Codable, Equatable, Sendable {
    /// Text (as far as the listing knows: opening it reads it and may find it binary after all).
    case text
    /// Binary (by its name, or found so when opened): listed, never opened.
    case binary
    /// Over `ProjectTree.Limits.maxOpenBytes`: listed, never opened.
    case large
}

/// One file of a project's index.
public struct ProjectEntry: Codable, Equatable, Sendable {
    public var path: String
    public var size: Int
    public var kind: ProjectFileKind
    public init(path: String, size: Int, kind: ProjectFileKind) { self.path = path; self.size = size; self.kind = kind }
}

/// A shared folder on the host's disk, safe by construction: the index of what may be shared, and
/// the only way a peer's path reaches the file system.
///
/// Every access from a peer goes through `check` (the path's syntax, then the ignore rules) and
/// then through descriptors, never through a path string the kernel resolves on its own: folders
/// are opened one component at a time with `O_NOFOLLOW` from the root's descriptor (a symlinked
/// folder is never entered), a file is opened `O_PATH` first (no side effect, even on a device),
/// checked to be a regular file whose real path (read back from `/proc/self/fd`) is under the
/// root's and not ignored, and only then reopened for reading through that same descriptor, so
/// a symlink swapped in between the check and the read changes nothing. Writes go to a temporary
/// file in the verified folder's descriptor, renamed over the name there.
///
/// Not thread-safe: one owner (the server's event loop).
public final class ProjectTree {
    /// Bounds on what is indexed and opened.
    public struct Limits: Sendable {
        /// Files larger than this are listed as `large` and never opened (1 MiB).
        public var maxOpenBytes = 1 << 20
        /// At most this many files are indexed (the rest are left out, and `truncated` says so).
        public var maxEntries = 100_000
        /// An ignore file larger than this is not read (as if empty).
        public var maxIgnoreFileBytes = 1 << 20
        /// The text of every file open in a session together, as read from disk (32 MiB). A file's
        /// document stays in the host's memory until the host stops (a reconnecting peer merges
        /// into it), at about 8.5 bytes per character: without this, any peer, a watcher too,
        /// could make the host hold 1024 files of 1 MiB, about 9 GB.
        public var maxOpenTotalBytes = 32 << 20
        public init() {}
    }

    /// The root's real path (symlinks resolved), which every real path must stay under.
    public let root: String
    public let limits: Limits
    /// The index, sorted by path.
    public private(set) var entries: [ProjectEntry] = []
    private var positions: [String: Int] = [:]
    /// The folders the walk entered (relative; not the root), for a watcher.
    public private(set) var folders: [String] = []
    /// The walk stopped at `limits.maxEntries`.
    public private(set) var truncated = false
    /// Linux's `O_PATH` (Glibc's headers define it only with `_GNU_SOURCE`, which Swift's import lacks).
    static let openPathOnly: Int32 = 0o10000000
    /// Names whose extension says binary: listed, never opened.
    static let binaryExtensions: Set<String> = [
        "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tiff", "psd", "pdf", "zip", "gz", "tgz", "bz2", "xz", "zst",
        "7z", "rar", "tar", "jar", "war", "class", "o", "a", "so", "dylib", "dll", "exe", "bin", "wasm", "pyc", "pyo",
        "mp3", "mp4", "m4a", "mov", "avi", "mkv", "wav", "ogg", "flac", "ttf", "otf", "woff", "woff2", "eot", "sqlite",
        "db", "dat", "iso", "dmg", "deb", "rpm", "npy", "pkl", "onnx", "pt", "safetensors",
    ]

    /// Opens the folder at `path` and indexes it. Throws when it is not a folder that can be read.
    public init(root path: String, limits: Limits = Limits()) throws(ProjectError) {
        guard let real = realpath(path, nil) else {
            throw .io("cannot share \(path): \(String(cString: strerror(errno)))")
        }
        root = String(cString: real)
        free(real)
        self.limits = limits
        var info = stat()
        guard stat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw .io("\(path) is not a folder") }
        try rescan()
    }

    // MARK: The index

    /// Walks the tree again and replaces the index.
    public func rescan() throws(ProjectError) {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .io("cannot read the folder \(root): \(String(cString: strerror(errno)))") }
        var found: [ProjectEntry] = []
        truncated = false
        folders = []
        walk(folder: rootFD, components: [], ignores: IgnoreStack(), into: &found)
        found.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        entries = found
        reindex()
    }

    /// The entry for `path`, if indexed.
    public func entry(_ path: String) -> ProjectEntry? { positions[path].map { entries[$0] } }

    private func reindex() {
        positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.path, $0) })
    }

    /// Puts `entry` in the index (replacing one at its path).
    func record(_ entry: ProjectEntry) {
        if let at = positions[entry.path] {
            entries[at] = entry
            return
        }
        let at = entries.partitioningIndex { !$0.path.utf8.lexicographicallyPrecedes(entry.path.utf8) }
        entries.insert(entry, at: at)
        reindex()
    }

    /// Indexes `path` again with `size` (a change seen on disk); returns its entry.
    @discardableResult
    func refresh(_ path: ProjectPath, size: Int) -> ProjectEntry {
        var entry = classify(path, size: size)
        // Found binary when opened: stays so until it is large (the name did not change).
        if self.entry(path.string)?.kind == .binary && entry.kind == .text { entry.kind = .binary }
        record(entry)
        return entry
    }

    /// Takes `path` out of the index.
    func forget(_ path: String) {
        guard let at = positions[path] else { return }
        entries.remove(at: at)
        reindex()
    }

    /// Reads one folder (closing `folder` when done): its ignore files first, then its entries.
    private func walk(folder: Int32, components: [String], ignores inherited: IgnoreStack, into found: inout [ProjectEntry]) {
        guard let stream = fdopendir(folder) else {
            close(folder)
            return
        }
        defer { closedir(stream) }
        var ignores = inherited
        let own = Self.ignoreFile(in: folder, limit: limits.maxIgnoreFileBytes)
        ignores = ignores.pushing(own, depth: components.count)
        var folders: [String] = []
        while let item = readdir(stream) {
            let name = withUnsafePointer(to: item.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            // A name no peer could send (a control character, say) is not shared either.
            guard name.unicodeScalars.allSatisfy({ ProjectPath.forbidden($0) == nil }), name.utf8.count <= ProjectPath.maxComponentBytes else { continue }
            var type = item.pointee.d_type
            var info = stat()
            if type == UInt8(DT_UNKNOWN) || type == UInt8(DT_REG) || type == UInt8(DT_LNK) {
                guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                type = Self.direntType(info.st_mode)
            }
            let path = components + [name]
            switch type {
            case UInt8(DT_DIR):
                guard path.count < ProjectPath.maxDepth, !ignores.ignores(path, isDirectory: true) else { continue }
                folders.append(name)
            case UInt8(DT_REG):
                guard !ignores.ignores(path, isDirectory: false) else { continue }
                guard found.count < limits.maxEntries else {
                    truncated = true
                    continue
                }
                found.append(classify(ProjectPath(trusted: path), size: Int(info.st_size)))
            case UInt8(DT_LNK):
                // Listed only when it ends at a regular file inside the tree that is itself shared;
                // a symlinked folder is never entered (no cycles, no way out).
                guard !ignores.ignores(path, isDirectory: false), found.count < limits.maxEntries,
                      let target = try? inspect(ProjectPath(trusted: path)) else { continue }
                found.append(classify(ProjectPath(trusted: path), size: target.size))
            default:
                continue  // devices, FIFOs, sockets: never shared
            }
        }
        for name in folders {
            let child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { continue }
            self.folders.append((components + [name]).joined(separator: "/"))
            walk(folder: child, components: components + [name], ignores: ignores, into: &found)
        }
    }

    private static func direntType(_ mode: mode_t) -> UInt8 {
        switch mode & S_IFMT {
        case S_IFDIR: UInt8(DT_DIR)
        case S_IFREG: UInt8(DT_REG)
        case S_IFLNK: UInt8(DT_LNK)
        default: UInt8(DT_UNKNOWN)
        }
    }

    private func classify(_ path: ProjectPath, size: Int) -> ProjectEntry {
        let name = path.components.last ?? ""
        let ext = name.split(separator: ".").count > 1 ? name.split(separator: ".").last.map { $0.lowercased() } : nil
        let kind: ProjectFileKind = size > limits.maxOpenBytes ? .large : ext.map(Self.binaryExtensions.contains) == true ? .binary : .text
        return ProjectEntry(path: path.string, size: size, kind: kind)
    }

    /// `.gitignore` then `.codesyncignore` of the folder open at `folder` (regular files only).
    private static func ignoreFile(in folder: Int32, limit: Int) -> IgnoreFile {
        var patterns: [IgnorePattern] = []
        for name in [".gitignore", ".codesyncignore"] {
            let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard let data = try? readRegular(fd, limit: limit) else { continue }
            patterns += IgnoreFile(text: String(decoding: data, as: UTF8.self)).patterns
        }
        return IgnoreFile(patterns: patterns)
    }

    // MARK: The one gate for peers' paths

    /// Checks a path a peer sent: its syntax (`ProjectPath`), then that neither it nor a folder on
    /// its way is ignored. The file system is checked by the operations themselves, on descriptors.
    public func check(_ string: String) throws(ProjectError) -> ProjectPath {
        let path = try ProjectPath(string)
        try checkNotIgnored(path)
        return path
    }

    /// Refuses a path that an ignore file (or the `.git` rule) keeps out of the session.
    private func checkNotIgnored(_ path: ProjectPath) throws(ProjectError) {
        var folder = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw .io("cannot read the folder \(root): \(String(cString: strerror(errno)))") }
        defer { close(folder) }
        var ignores = IgnoreStack().pushing(Self.ignoreFile(in: folder, limit: limits.maxIgnoreFileBytes), depth: 0)
        // Past a folder that cannot be opened (one still to be made by a create or rename) there are
        // no more ignore files to read, but the rules read so far still apply to every component.
        var beyondDisk = false
        for (index, name) in path.components.enumerated() {
            let prefix = Array(path.components[...index])
            let isLast = index == path.components.count - 1
            if ignores.ignores(prefix, isDirectory: !isLast) {
                throw .refused("\(ProjectPath.shown(path.string)) is not shared (.gitignore, .codesyncignore or .git)")
            }
            guard !isLast, !beyondDisk else { continue }
            let child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else {
                beyondDisk = true
                continue
            }
            close(folder)
            folder = child
            ignores = ignores.pushing(Self.ignoreFile(in: folder, limit: limits.maxIgnoreFileBytes), depth: index + 1)
        }
    }

    /// The folder holding `path`, opened one component at a time without following symlinks, and
    /// checked (by its descriptor) to be under the root. With `create`, missing folders are made.
    private func openParent(of path: ProjectPath, create: Bool = false) throws(ProjectError) -> Int32 {
        var folder = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw .io("cannot read the folder \(root): \(String(cString: strerror(errno)))") }
        for name in path.components.dropLast() {
            var child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 && errno == ENOENT && create {
                if mkdirat(folder, name, 0o777) != 0 && errno != EEXIST {
                    let reason = String(cString: strerror(errno))
                    close(folder)
                    throw .io("cannot make the folder for \(ProjectPath.shown(path.string)): \(reason)")
                }
                child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let reason = errno
            close(folder)
            guard child >= 0 else {
                switch reason {
                case ENOENT: throw .refused("no such file: \(ProjectPath.shown(path.string))")
                case ELOOP, ENOTDIR: throw .refused("\(ProjectPath.shown(path.string)) goes through a symlink or a file, not a folder of the project")
                default: throw .io("cannot open the folder of \(ProjectPath.shown(path.string)): \(String(cString: strerror(reason)))")
                }
            }
            folder = child
        }
        guard let real = Self.realPath(of: folder), real == root || real.hasPrefix(root + "/") else {
            close(folder)
            throw .refused("\(ProjectPath.shown(path.string)) is outside the shared folder")
        }
        return folder
    }

    /// What `path` is, checked as it would be read: a regular file inside the tree, not ignored.
    func inspect(_ path: ProjectPath) throws(ProjectError) -> (size: Int, real: ProjectPath) {
        let (fd, size, real) = try openChecked(path)
        close(fd)
        return (size, real)
    }

    /// Opens `path` `O_PATH` and checks it (see the type's comment); the caller closes the descriptor.
    private func openChecked(_ path: ProjectPath) throws(ProjectError) -> (fd: Int32, size: Int, real: ProjectPath) {
        let folder = try openParent(of: path)
        defer { close(folder) }
        let name = path.components[path.components.count - 1]
        // O_PATH: no open of the file itself yet (a device or FIFO is never opened for I/O).
        let fd = openat(folder, name, Self.openPathOnly | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw ProjectError.refused("no such file: \(ProjectPath.shown(path.string))") }
            throw ProjectError.io("cannot open \(ProjectPath.shown(path.string)): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .refused("\(ProjectPath.shown(path.string)) is not a regular file (a folder, device, FIFO or socket is never shared)")
        }
        guard let real = Self.realPath(of: fd), real.hasPrefix(root + "/") else {
            close(fd)
            throw .refused("\(ProjectPath.shown(path.string)) leads outside the shared folder")
        }
        let relative = ProjectPath(trusted: String(real.dropFirst(root.count + 1)).split(separator: "/").map(String.init))
        if relative != path {
            do throws(ProjectError) { try checkNotIgnored(relative) } catch {
                close(fd)
                throw .refused("\(ProjectPath.shown(path.string)) leads to a file that is not shared")
            }
        }
        return (fd, Int(info.st_size), relative)
    }

    /// The real path of an open descriptor (Linux: `/proc/self/fd`); nil when it cannot be read.
    static func realPath(of fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Operations (each checks the path itself)

    /// The text of the file at `path` and its real path (where saves go). Refused: anything
    /// `check` refuses, anything not a regular file inside the tree, files over the size limit,
    /// and files that are not UTF-8 text (marked `binary` in the index from then on).
    public func read(_ string: String) throws(ProjectError) -> (text: String, real: ProjectPath) {
        let path = try check(string)
        let (pathFD, _, real) = try openChecked(path)
        defer { close(pathFD) }
        // Reopen the very inode checked above, for reading.
        let fd = open("/proc/self/fd/\(pathFD)", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read \(ProjectPath.shown(path.string)): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let data: [UInt8]
        do {
            data = try Self.readRegular(fd, limit: limits.maxOpenBytes)
        } catch ReadFailure.tooLarge(let size) {
            if var entry = entry(path.string) { entry.kind = .large; record(entry) }
            throw .refused("\(ProjectPath.shown(path.string)) is \(size) bytes, over the \(limits.maxOpenBytes >> 10) KiB a session opens")
        } catch ReadFailure.notRegular {
            throw .refused("\(ProjectPath.shown(path.string)) is not a regular file")
        } catch {
            throw .io("cannot read \(ProjectPath.shown(path.string)): \(error)")
        }
        guard !data.contains(0), let text = String(validating: data, as: UTF8.self) else {
            if var entry = entry(path.string) { entry.kind = .binary; record(entry) }
            throw .refused("\(ProjectPath.shown(path.string)) is not UTF-8 text (binary files are listed, not opened)")
        }
        return (text, real)
    }

    /// Opens the shared file at `path` for reading, whatever its size or content (a run's copy of the
    /// folder): checked exactly as `read` checks it (the gate, then descriptors only). Returns the
    /// descriptor (the caller closes it) and the file's real path relative to the root.
    public func openForCopy(_ string: String) throws(ProjectError) -> (fd: Int32, real: String) {
        let path = try check(string)
        let (pathFD, _, real) = try openChecked(path)
        defer { close(pathFD) }
        let fd = open("/proc/self/fd/\(pathFD)", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read \(ProjectPath.shown(path.string)): \(String(cString: strerror(errno)))") }
        return (fd, real.string)
    }

    /// Writes `text` to `path` atomically (a temporary file in the same verified folder, fsync,
    /// rename over the name). `mustCreate`: refused if the name exists (and missing folders are made).
    public func write(_ text: String, to string: String, mustCreate: Bool = false) throws(ProjectError) {
        let path = try check(string)
        let folder = try openParent(of: path, create: mustCreate)
        defer { close(folder) }
        let name = path.components[path.components.count - 1]
        var info = stat()
        var mode: mode_t = 0o666
        if fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            if mustCreate { throw .refused("\(ProjectPath.shown(path.string)) already exists") }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw .refused("\(ProjectPath.shown(path.string)) is not a regular file of the project (a symlink, folder or device); not written")
            }
            mode = info.st_mode & 0o7777
        } else if !mustCreate {
            throw .refused("no such file: \(ProjectPath.shown(path.string))")
        }
        let temp = ".\(name.prefix(200)).codesync-\(Auth.randomHex(count: 4)).tmp"
        let fd = openat(folder, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .io("cannot save \(ProjectPath.shown(path.string)): \(String(cString: strerror(errno)))") }
        if mode != 0o666 { fchmod(fd, mode) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlinkat(folder, temp, 0)
                throw .io("cannot save \(ProjectPath.shown(path.string)): \(reason)")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        if mustCreate {
            // link + unlink: a name someone made meanwhile is never replaced.
            guard linkat(folder, temp, folder, name, 0) == 0 else {
                let reason = errno == EEXIST ? "it already exists" : String(cString: strerror(errno))
                unlinkat(folder, temp, 0)
                throw .refused("cannot create \(ProjectPath.shown(path.string)): \(reason)")
            }
            unlinkat(folder, temp, 0)
        } else if renameat(folder, temp, folder, name) != 0 {
            let reason = String(cString: strerror(errno))
            unlinkat(folder, temp, 0)
            throw .io("cannot save \(ProjectPath.shown(path.string)): \(reason)")
        }
        fsync(folder)
        record(classify(path, size: bytes.count))
    }

    /// Deletes the file at `path` (a symlink: the link itself). Folders are not deleted.
    public func delete(_ string: String) throws(ProjectError) {
        let path = try check(string)
        let folder = try openParent(of: path)
        defer { close(folder) }
        let name = path.components[path.components.count - 1]
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw .refused("no such file: \(ProjectPath.shown(path.string))") }
        guard info.st_mode & S_IFMT == S_IFREG || info.st_mode & S_IFMT == S_IFLNK else {
            throw .refused("\(ProjectPath.shown(path.string)) is not a file; only files are deleted")
        }
        guard unlinkat(folder, name, 0) == 0 else { throw .io("cannot delete \(ProjectPath.shown(path.string)): \(String(cString: strerror(errno)))") }
        fsync(folder)
        forget(path.string)
    }

    /// Renames the file at `from` to `to` (missing folders of `to` are made); refused if `to` exists.
    public func rename(_ fromString: String, to toString: String) throws(ProjectError) {
        let from = try check(fromString)
        let to = try check(toString)
        let source = try openParent(of: from)
        defer { close(source) }
        let target = try openParent(of: to, create: true)
        defer { close(target) }
        let name = from.components[from.components.count - 1], newName = to.components[to.components.count - 1]
        var info = stat()
        guard fstatat(source, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw .refused("no such file: \(ProjectPath.shown(from.string))") }
        guard info.st_mode & S_IFMT == S_IFREG || info.st_mode & S_IFMT == S_IFLNK else {
            throw .refused("\(ProjectPath.shown(from.string)) is not a file; only files are renamed")
        }
        // link + unlink, not rename: a file at the new name is never replaced (rename(2) would).
        if info.st_mode & S_IFMT == S_IFREG {
            guard linkat(source, name, target, newName, 0) == 0 else {
                throw .refused(errno == EEXIST ? "\(ProjectPath.shown(to.string)) already exists" : "cannot rename \(ProjectPath.shown(from.string)): \(String(cString: strerror(errno)))")
            }
            unlinkat(source, name, 0)
        } else {
            var existing = stat()
            guard fstatat(target, newName, &existing, AT_SYMLINK_NOFOLLOW) != 0 else { throw .refused("\(ProjectPath.shown(to.string)) already exists") }
            guard renameat(source, name, target, newName) == 0 else {
                throw .io("cannot rename \(ProjectPath.shown(from.string)): \(String(cString: strerror(errno)))")
            }
        }
        fsync(source)
        fsync(target)
        let old = entry(from.string)
        forget(from.string)
        record(classify(to, size: old?.size ?? Int(info.st_size)))
    }

    // MARK: Reading

    enum ReadFailure: Error { case tooLarge(Int), notRegular, io(Int32) }

    /// Reads a regular file's descriptor whole, refusing one over `limit` bytes.
    static func readRegular(_ fd: Int32, limit: Int) throws(ReadFailure) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw .notRegular }
        guard Int(info.st_size) <= limit else { throw .tooLarge(Int(info.st_size)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .io(errno) }
            if n == 0 { break }
            bytes += chunk[0..<n]
            // A file that grows while read is cut off at the limit, not read forever.
            if bytes.count > limit { throw .tooLarge(bytes.count) }
        }
        return bytes
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate false then true along the array.
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
