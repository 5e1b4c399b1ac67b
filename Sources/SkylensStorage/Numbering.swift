/// Distinct values numbered 0, 1, 2… in the order they are first seen (a commit's traces, a journal's terms).
struct Numbering<Value: Hashable> {
    /// The values by number.
    private(set) var values: [Value] = []
    private var numbers: [Value: Int] = [:]
    /// The number given or found last: values often come in runs (a trace's documents arrive together), and one equal
    /// to it is numbered by a comparison instead of a hash.
    private var last: Int?

    init(capacity: Int = 0) {
        values.reserveCapacity(capacity)
        numbers.reserveCapacity(capacity)
    }

    /// The value's number, given now if it has none yet.
    mutating func number(_ value: Value) -> Int {
        if let last, values[last] == value { return last }
        let n: Int
        if let found = numbers[value] {
            n = found
        } else {
            n = values.count
            numbers[value] = n
            values.append(value)
        }
        last = n
        return n
    }

    /// The value's number, if it has one.
    func existing(_ value: Value) -> Int? { numbers[value] }

    var count: Int { values.count }
}
