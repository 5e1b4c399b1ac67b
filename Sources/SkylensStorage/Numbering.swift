/// Distinct values numbered 0, 1, 2… in the order they are first seen (a commit's traces, a journal's terms).
struct Numbering<Value: Hashable> {
    /// The values by number.
    private(set) var values: [Value] = []
    private var numbers: [Value: Int] = [:]

    init(capacity: Int = 0) {
        values.reserveCapacity(capacity)
        numbers.reserveCapacity(capacity)
    }

    /// The value's number, given now if it has none yet.
    mutating func number(_ value: Value) -> Int {
        if let n = numbers[value] { return n }
        numbers[value] = values.count
        values.append(value)
        return values.count - 1
    }

    /// The value's number, if it has one.
    func existing(_ value: Value) -> Int? { numbers[value] }

    var count: Int { values.count }
}
