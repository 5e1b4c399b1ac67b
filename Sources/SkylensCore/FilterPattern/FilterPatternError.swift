/// A filter pattern that is not part of the language, with the 0-based character position where it goes wrong.
package struct FilterPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    package var position: Int
    package var message: String

    package init(position: Int, message: String) {
        self.position = position
        self.message = message
    }

    package var description: String { "Invalid filter pattern at position \(position + 1): \(message)" }
}
