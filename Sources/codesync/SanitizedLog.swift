import EditorCore
import Logging

/// The standard-error log handler with every message and metadata value passed through
/// `TerminalSanitizer`: log lines quote peers' names and reasons, which must not reach the
/// reader's terminal as escape sequences (nor forge a log line with a newline).
struct SanitizedLogHandler: LogHandler {
    private var inner: StreamLogHandler

    init(label: String) { inner = StreamLogHandler.standardError(label: label) }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var clean = event
        clean.message = Logger.Message(stringLiteral: TerminalSanitizer.line(event.message.description))
        clean.metadata = event.metadata?.mapValues { .string(TerminalSanitizer.line($0.description)) }
        inner.log(event: clean)
    }
}
