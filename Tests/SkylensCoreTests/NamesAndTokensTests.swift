import Testing
@testable import SkylensCore

struct NamesAndTokensTests {
    @Test(arguments: ["/aws/lambda/orders-api", "a", "my_group.v1#2", String(repeating: "g", count: 512)])
    func validGroupNames(_ name: String) throws {
        try ResourceNames.validateGroup(name)
    }

    @Test(arguments: ["", "has space", "colon:name", "star*", String(repeating: "g", count: 513)])
    func invalidGroupNames(_ name: String) {
        #expect(throws: LogsError.self) { try ResourceNames.validateGroup(name) }
    }

    @Test func streamNamesRejectColonAndStar() throws {
        try ResourceNames.validateStream("2024/05/01/[$LATEST]abcdef")
        #expect(throws: LogsError.self) { try ResourceNames.validateStream("a:b") }
        #expect(throws: LogsError.self) { try ResourceNames.validateStream("a*b") }
        #expect(throws: LogsError.self) { try ResourceNames.validateStream("") }
    }

    @Test func getLogEventsTokensRoundTrip() throws {
        let token = GetLogEventsToken(.forward, EventKey(timestamp: 1_714_521_600_000, seq: 42))
        #expect(token.text.count == 58)
        #expect(try GetLogEventsToken.parse(token.text) == token)
        let back = GetLogEventsToken(.backward, EventKey(timestamp: 0, seq: 1))
        #expect(try GetLogEventsToken.parse(back.text) == back)
        for bad in ["", "f/", "x/0000", "f/" + String(repeating: "a", count: 56), token.text + "0"] {
            #expect(throws: LogsError.invalidToken) { try GetLogEventsToken.parse(bad) }
        }
    }

    @Test func filterCursorRoundTripAndOrder() throws {
        let a = FilterCursor(timestamp: 10, streamID: 2, seq: 7)
        #expect(try FilterCursor.parse(a.text) == a)
        #expect(a < FilterCursor(timestamp: 10, streamID: 3, seq: 1))
        #expect(throws: LogsError.invalidToken) { try FilterCursor.parse("Fzz-1-1") }
        #expect(throws: LogsError.invalidToken) { try FilterCursor.parse("nope") }
    }

    @Test func eventIDsAreFiftySixDigits() {
        let id = EventID.make(streamID: 3, seq: 99)
        #expect(id.count == 56)
        #expect(id.allSatisfy { $0.isNumber })
        #expect(id != EventID.make(streamID: 3, seq: 100))
    }
}
