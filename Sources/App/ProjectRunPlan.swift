import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation

/// One run in a shared folder, ready for the sandbox: the checked file, the language, the
/// project's command if it has one, and the copy of the folder to mount.
struct ProjectRunPlan: Sendable {
    var snapshot: ProjectSnapshot
    var mount: ProjectMount
    var language: Language
    /// The file run (its real path in the folder), if any.
    var file: String?
    /// `.codesync.json`'s command, if the folder has one.
    var command: String?
    /// The content hash of the file run (`run.started` `version`), when it is text.
    var version: String?

    /// A run request's problem that the requester may read as it is.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks `file` on the host's session (the gate every peer path goes through), reads the
    /// folder's run settings from disk, picks the language and copies the folder.
    static func make(file: String?, from source: any ProjectRunSource, catalog: LanguageCatalog,
                     limits: ProjectSnapshot.Limits) async throws -> ProjectRunPlan {
        let sources = try await source.projectRunSources(file: file)
        let settings = sources.settings
        if let problem = settings.problem {
            throw Refusal(description: "runs are refused until the host fixes its \(ProjectRunSettings.fileName): \(problem)")
        }
        let language: Language
        if settings.command != nil {
            if let name = settings.language {
                do { language = try catalog.named(name) } catch {
                    throw Refusal(description: "\(ProjectRunSettings.fileName) names the language \"\(name)\", which the host's sandbox does not know (\(catalog.languages.map(\.name).joined(separator: ", ")))")
                }
            } else {
                language = sources.file.flatMap(catalog.forFile) ?? (try? catalog.named("python")) ?? .python
            }
        } else {
            guard let path = sources.file else {
                throw Refusal(description: "name the file to run: this shared folder has no run command (\(ProjectRunSettings.fileName) \"run\")")
            }
            guard let found = catalog.forFile(path) else {
                let known = catalog.languages.flatMap { $0.extensions.map { "." + $0 } }.joined(separator: " ")
                throw Refusal(description: "no language runs '\(path)' (by its extension: \(known)); a \(ProjectRunSettings.fileName) \"run\" command can")
            }
            language = found
        }
        let snapshot = try ProjectSnapshot.make(sources, limits: limits)
        var version: String?
        if let path = sources.file {
            // The file as it ran: the session's text, else the copy's (when it is a text of a sane size).
            let copy = snapshot.directory.path + "/" + path
            var info = stat()
            let small = stat(copy, &info) == 0 && info.st_size <= 1 << 20
            let text = sources.texts[path] ?? (small ? try? String(contentsOfFile: copy, encoding: .utf8) : nil)
            version = text.map(RunVersion.of)
        }
        let mount = ProjectMount(hostPath: snapshot.directory.path, file: sources.file, command: settings.command, build: settings.build)
        return ProjectRunPlan(snapshot: snapshot, mount: mount, language: language, file: sources.file, command: settings.command,
                              version: version)
    }

    /// What the requester is told and what the host logs, for an error of `make`. The host's own
    /// paths and file-system errors are never sent to a guest.
    static func describe(_ error: any Error) -> (forPeers: String, forHost: String) {
        if let refusal = error as? Refusal { return (refusal.description, refusal.description) }
        if let snapshot = error as? SnapshotError { return (snapshot.forPeers, snapshot.description) }
        if let project = error as? ProjectError {
            if case .io(let why) = project { return ("the host could not read the file (the host's log says why)", why) }
            return (project.description, project.description)
        }
        return ("the host could not prepare the run (the host's log says why)", "\(error)")
    }
}
