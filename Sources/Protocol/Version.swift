/// The product's version, shown by `codesync --version` and sent in the handshake.
public enum CodeSyncVersion {
    /// Semantic version of this build of CodeSync.
    public static let current = "0.1.0"
}
