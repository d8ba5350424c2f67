// The shell's API speaks the core's types (`EditorApp` takes an `EditorModel` and an `EditorDocument`),
// so whoever imports the shell sees them without importing the core as well.
@_exported import EditorCore
