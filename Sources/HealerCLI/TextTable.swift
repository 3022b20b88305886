/// A plain-text table with columns aligned on the widest cell, for terminal output.
struct TextTable {
    /// Column titles.
    var header: [String]
    /// Rows; each has as many cells as ``header``.
    var rows: [[String]]
    /// Columns whose cells are right-aligned (numbers).
    var rightAligned: Set<Int> = []

    /// The table as lines joined by `\n`, with two spaces between columns and no trailing blanks.
    func render() -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                let isLast = index == cells.count - 1
                text += rightAligned.contains(index) ? padding + cell : cell + (isLast ? "" : padding)
                if !isLast { text += "  " }
            }
            return text
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
