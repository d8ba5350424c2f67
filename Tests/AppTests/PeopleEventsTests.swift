import CodeSyncTestSupport
import CodeSyncApp
import CodeSyncProtocol
import CodeSyncTUI
import Testing

/// Who joined, who left and who waits, as the editor shows them: one sanitized line each.
@Suite(.ownThreads) struct PeopleEventsTests {
    @Test func joinsAndLeavesBecomeOneLineNotices() {
        #expect(SessionEvents.notice(.joined(id: "bob-1", name: "bob")) == "bob joined")
        #expect(SessionEvents.notice(.left(id: "bob-1", name: "bob", reason: "bye")) == "bob left")
        #expect(SessionEvents.notice(.left(id: "bob-1", name: "bob", reason: "disconnected")) == "bob left")
        #expect(SessionEvents.notice(.left(id: "bob-1", name: "bob", reason: "removed by the host")) == "bob left (removed by the host)")
        // A name or reason from a peer never reaches the terminal as a control sequence or a second line.
        let hostile = SessionEvents.notice(.left(id: "x-1", name: "e\u{1B}[2Jvil", reason: "a\nb"))
        #expect(!hostile.contains("\u{1B}") && !hostile.contains("\n"), "\(hostile.debugDescription)")
        #expect(SessionEvents.editorEvents(for: .membership(.joined(id: "c-1", name: "cat")), isHost: false) == [.notice("cat joined")])
    }

    @Test func theLobbyReachesTheHostsEditorSanitized() {
        let entry = LobbyEntry(peer: "dan-3", name: "d\u{1B}]0;x\u{7}an", from: "10.0.0.1 via relay\u{1B}[H", access: .view, removed: true)
        let events = SessionEvents.editorEvents(for: .lobby([entry]), isHost: true)
        guard case .lobby(let list)? = events.first, let guest = list.first else {
            Issue.record("no lobby event: \(events)")
            return
        }
        #expect(guest.id == "dan-3" && guest.access == "view" && guest.removedBefore)
        #expect(!guest.name.contains("\u{1B}") && !guest.from.contains("\u{1B}"), "\(guest)")
        #expect(SessionEvents.editorEvents(for: .connection(.waiting), isHost: false) == [.connection(.reconnecting("waiting for the host to admit you"))])
    }
}
