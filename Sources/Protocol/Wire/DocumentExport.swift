/// The replicated document is part of the protocol's API: users of CodeSyncProtocol see it too.
@_exported import CodeSyncDocument
