// The symbol's module matrix: function patterns, codeword placement, masking, format and
// version information, and the mask penalty score (ISO/IEC 18004, 6.3, 7.7–7.10).

struct ModuleGrid {
    let version: Int
    let size: Int
    /// Row-major; `true` is a dark module.
    var dark: [Bool]
    /// Row-major; `true` where a function pattern, format or version information lives.
    var isFunction: [Bool]

    init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        dark = [Bool](repeating: false, count: size * size)
        isFunction = [Bool](repeating: false, count: size * size)
    }

    private mutating func setFunction(x: Int, y: Int, dark isDark: Bool) {
        dark[y * size + x] = isDark
        isFunction[y * size + x] = true
    }

    // MARK: Function patterns

    /// Draws timing, finder (with separators), alignment patterns, the dark module, and reserves
    /// the format and version information areas.
    mutating func drawFunctionPatterns() {
        for index in 0..<size {
            setFunction(x: 6, y: index, dark: index % 2 == 0)
            setFunction(x: index, y: 6, dark: index % 2 == 0)
        }
        drawFinder(centerX: 3, centerY: 3)
        drawFinder(centerX: size - 4, centerY: 3)
        drawFinder(centerX: 3, centerY: size - 4)

        let positions = QRTables.alignmentPositions(version: version)
        let last = positions.count - 1
        for (row, centerY) in positions.enumerated() {
            for (column, centerX) in positions.enumerated() {
                let overlapsFinder = (row == 0 && column == 0) || (row == 0 && column == last)
                    || (row == last && column == 0)
                if !overlapsFinder {
                    drawAlignment(centerX: centerX, centerY: centerY)
                }
            }
        }
        // Placeholder format bits reserve their modules; the real ones are drawn per mask.
        drawFormatBits(level: .medium, mask: 0)
        drawVersionBits()
    }

    /// A 7×7 finder pattern plus its one-module light separator (clipped at the symbol edge).
    private mutating func drawFinder(centerX: Int, centerY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = centerX + dx
                let y = centerY + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let distance = max(abs(dx), abs(dy))
                setFunction(x: x, y: y, dark: distance != 2 && distance != 4)
            }
        }
    }

    private mutating func drawAlignment(centerX: Int, centerY: Int) {
        for dy in -2...2 {
            for dx in -2...2 {
                setFunction(x: centerX + dx, y: centerY + dy, dark: max(abs(dx), abs(dy)) != 1)
            }
        }
    }

    /// The 15-bit format information for `level` and `mask`: 5 data bits, a BCH(15,5) remainder,
    /// XORed with 101010000010010 (7.9.1).
    static func formatBits(level: QRCode.ErrorCorrection, mask: Int) -> Int {
        let data = level.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 {
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        }
        return (data << 10 | remainder) ^ 0x5412
    }

    /// The 18-bit version information: 6 data bits and a BCH(18,6) remainder (7.10).
    static func versionBits(version: Int) -> Int {
        var remainder = version
        for _ in 0..<12 {
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        }
        return version << 12 | remainder
    }

    /// Draws both copies of the format information, bit 0 being the least significant.
    mutating func drawFormatBits(level: QRCode.ErrorCorrection, mask: Int) {
        let bits = Self.formatBits(level: level, mask: mask)
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }

        // Around the top-left finder.
        for index in 0...5 {
            setFunction(x: 8, y: index, dark: bit(index))
        }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for index in 9..<15 {
            setFunction(x: 14 - index, y: 8, dark: bit(index))
        }
        // Below the top-right finder and beside the bottom-left finder.
        for index in 0..<8 {
            setFunction(x: size - 1 - index, y: 8, dark: bit(index))
        }
        for index in 8..<15 {
            setFunction(x: 8, y: size - 15 + index, dark: bit(index))
        }
        // The dark module, always dark.
        setFunction(x: 8, y: size - 8, dark: true)
    }

    /// Draws both copies of the version information (versions 7 and up).
    private mutating func drawVersionBits() {
        guard version >= 7 else { return }
        let bits = Self.versionBits(version: version)
        for index in 0..<18 {
            let isDark = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3
            let b = index / 3
            setFunction(x: a, y: b, dark: isDark)  // top right
            setFunction(x: b, y: a, dark: isDark)  // bottom left
        }
    }

    // MARK: Data

    /// Places `codewords` most significant bit first in the zigzag order of 7.7.3: two-module wide
    /// columns from the right, alternately upwards and downwards, skipping the vertical timing
    /// pattern and every function module. Modules left over are remainder bits (light).
    mutating func placeCodewords(_ codewords: [UInt8]) {
        let totalBits = codewords.count * 8
        var bitIndex = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 {
                right = 5
            }
            let upward = (right + 1) & 2 == 0
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for offset in 0..<2 {
                    let index = y * size + right - offset
                    guard !isFunction[index] else { continue }
                    if bitIndex < totalBits {
                        dark[index] = (codewords[bitIndex >> 3] >> (7 - UInt8(bitIndex & 7))) & 1 == 1
                        bitIndex += 1
                    }
                }
            }
            right -= 2
        }
    }

    /// Whether data mask pattern `mask` (Table 10) inverts the module at (`x`, `y`), where `x` is
    /// the column and `y` the row.
    static func maskInverts(_ mask: Int, x: Int, y: Int) -> Bool {
        switch mask {
        case 0: (x + y) % 2 == 0
        case 1: y % 2 == 0
        case 2: x % 3 == 0
        case 3: (x + y) % 3 == 0
        case 4: (x / 3 + y / 2) % 2 == 0
        case 5: (x * y) % 2 + (x * y) % 3 == 0
        case 6: ((x * y) % 2 + (x * y) % 3) % 2 == 0
        default: ((x + y) % 2 + (x * y) % 3) % 2 == 0
        }
    }

    /// XORs mask pattern `mask` onto every non-function module (applying it twice undoes it).
    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] && Self.maskInverts(mask, x: x, y: y) {
                dark[y * size + x].toggle()
            }
        }
    }

    // MARK: Penalty (7.8.3)

    /// The mask evaluation score N1 + N2 + N3 + N4 of the whole symbol (lower is better).
    func penalty() -> Int {
        var score = 0
        var line = [Bool](repeating: false, count: size)
        for y in 0..<size {
            for x in 0..<size {
                line[x] = dark[y * size + x]
            }
            score += Self.linePenalty(line)
        }
        for x in 0..<size {
            for y in 0..<size {
                line[y] = dark[y * size + x]
            }
            score += Self.linePenalty(line)
        }
        // N2: each 2×2 block of one colour scores 3.
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let colour = dark[y * size + x]
                if colour == dark[y * size + x + 1] && colour == dark[(y + 1) * size + x]
                    && colour == dark[(y + 1) * size + x + 1]
                {
                    score += 3
                }
            }
        }
        // N4: 10 points per full 5 % that the dark proportion deviates from 50 %.
        var darkCount = 0
        for module in dark where module {
            darkCount += 1
        }
        let total = size * size
        score += abs(darkCount * 20 - total * 10) / total * 10
        return score
    }

    /// N1 and N3 for one row or column.
    ///
    /// N1: each run of five or more same-coloured modules scores 3 + (length − 5).
    /// N3: each 1:1:3:1:1 finder-like pattern (dark-light-dark×3-light-dark) with four light modules
    /// on at least one side scores 40; the area outside the symbol counts as light.
    static func linePenalty(_ line: [Bool]) -> Int {
        let count = line.count
        var score = 0
        var runColour = line[0]
        var runLength = 1
        for index in 1..<count {
            if line[index] == runColour {
                runLength += 1
            } else {
                if runLength >= 5 {
                    score += runLength - 2
                }
                runColour = line[index]
                runLength = 1
            }
        }
        if runLength >= 5 {
            score += runLength - 2
        }

        func isLight(from start: Int, to end: Int) -> Bool {
            for index in max(start, 0)..<min(end, count) where line[index] {
                return false
            }
            return true
        }
        for start in 0...(count - 7)
        where line[start] && !line[start + 1] && line[start + 2] && line[start + 3]
            && line[start + 4] && !line[start + 5] && line[start + 6]
        {
            if isLight(from: start - 4, to: start) || isLight(from: start + 7, to: start + 11) {
                score += 40
            }
        }
        return score
    }
}
