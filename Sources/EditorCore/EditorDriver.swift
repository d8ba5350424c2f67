/// What the shell does for the effects that leave the editor (the disk, the runner, the session).
/// A missing action is answered as the editor always has: no save, a message for a run, nothing else.
public struct EditorActions {
    /// Writes the text; returns the status message, or throws an error whose description is one line.
    public var save: ((String) throws -> String)?
    /// Starts a run of the text; its progress comes back later as `.run` events.
    public var run: ((String) -> Void)?
    /// Cancels the current run.
    public var cancelRun: (() -> Void)?
    /// Host: gives guests the next role; the new role comes back as a `.guestRoles` event.
    public var cycleGuestRoles: (() -> Void)?
    /// The local cursor or selection moved (scalar offsets).
    public var presence: ((Int, Range<Int>?) -> Void)?
    /// Host: admit, refuse or remove a peer (by id); the lobby and peer list come back as events.
    public var decide: ((String, PeopleDecision) -> Void)?
    /// A shared folder: open, create, rename or delete a file; the outcome comes back as events.
    public var file: ((FileCommand) -> Void)?

    public init(
        save: ((String) throws -> String)? = nil, run: ((String) -> Void)? = nil, cancelRun: (() -> Void)? = nil,
        cycleGuestRoles: (() -> Void)? = nil, presence: ((Int, Range<Int>?) -> Void)? = nil,
        decide: ((String, PeopleDecision) -> Void)? = nil, file: ((FileCommand) -> Void)? = nil
    ) {
        self.decide = decide
        self.file = file
        self.save = save
        self.run = run
        self.cancelRun = cancelRun
        self.cycleGuestRoles = cycleGuestRoles
        self.presence = presence
    }
}

/// A model and its document driven together: each event goes to the model, and the effects it
/// returns are carried out (edits and undo groups on the document, undo and redo fed back to the
/// model as changes, the rest through `actions`). The terminal shell and the tests both drive the
/// editor through this one path. A class so that an action may read `model` while an event is
/// being carried out. Used from one thread.
public final class EditorDriver {
    public private(set) var model: EditorModel

    /// Changes the model outside any event (tests that set up a state directly, e.g. a selection).
    public func withModel<T>(_ body: (inout EditorModel) -> T) -> T { body(&model) }
    public let document: EditorDocument
    public var actions: EditorActions
    /// A quit was asked for and nothing stopped it (a save before it failed).
    public private(set) var quitRequested = false

    public init(model: EditorModel, document: EditorDocument, actions: EditorActions = EditorActions()) {
        self.model = model
        self.document = document
        self.actions = actions
    }

    /// Applies an event and carries out its effects. Returns every effect the model produced, in
    /// order: this event's, then those of the events carrying them out led to (undo changes, saves).
    @discardableResult
    public func handle(_ event: EditorEvent) -> [EditorEffect] {
        var log: [EditorEffect] = []
        dispatch(event, &log)
        return log
    }

    private func dispatch(_ event: EditorEvent, _ log: inout [EditorEffect]) {
        let effects = model.handle(event)
        log.append(contentsOf: effects)
        perform(effects, &log)
    }

    private func perform(_ effects: [EditorEffect], _ log: inout [EditorEffect]) {
        var saveFailed = false
        for effect in effects {
            switch effect {
            case .insert(let text, let offset): document.insert(text, at: offset)
            case .delete(let offset, let count): document.delete(at: offset, count: count)
            case .closeUndoGroup: document.closeUndoGroup()
            case .undo:
                if let changes = document.undo() { dispatch(.undoChanges(changes), &log) } else {
                    dispatch(.message("nothing of yours to undo", isError: false), &log)
                }
            case .redo:
                if let changes = document.redo() { dispatch(.undoChanges(changes), &log) } else {
                    dispatch(.message("nothing to redo", isError: false), &log)
                }
            case .save:
                guard let save = actions.save else { continue }
                do {
                    dispatch(.saved(try save(document.text)), &log)
                } catch {
                    saveFailed = true
                    dispatch(.message("save failed: \(error)", isError: true), &log)
                }
            case .quit:
                if !saveFailed { quitRequested = true }
            case .run:
                if let run = actions.run { run(document.text) } else {
                    dispatch(.message("runs need a session or the runner; none is configured", isError: true), &log)
                }
            case .cancelRun:
                actions.cancelRun?()
            case .cycleGuestRoles:
                actions.cycleGuestRoles?()
            case .decide(let peer, let decision):
                actions.decide?(peer, decision)
            case .presence(let cursor, let selection):
                actions.presence?(cursor, selection)
            case .file(let command):
                actions.file?(command)
            }
        }
    }
}
