// Capacity and block-structure tables from ISO/IEC 18004:2015, Table 9 (error-correction
// characteristics) and Annex E (alignment pattern positions).

extension QRCode.ErrorCorrection {
    /// The row of this level in the per-level tables below.
    var tableIndex: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .quartile: 2
        case .high: 3
        }
    }

    /// The two error-correction bits of the format information (Table 12): L = 01, M = 00, Q = 11, H = 10.
    var formatBits: Int {
        switch self {
        case .low: 0b01
        case .medium: 0b00
        case .quartile: 0b11
        case .high: 0b10
        }
    }
}

enum QRTables {
    /// Error-correction codewords per block, indexed `[level][version]` (index 0 unused).
    static let eccCodewordsPerBlock: [[Int]] = [
        // L
        [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
         28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        // M
        [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
         26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        // Q
        [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
         28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        // H
        [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
         30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]

    /// Number of error-correction blocks, indexed `[level][version]` (index 0 unused).
    static let errorCorrectionBlocks: [[Int]] = [
        // L
        [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
         8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        // M
        [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
         17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        // Q
        [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
         23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        // H
        [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
         25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]

    /// The number of modules available for data and error-correction codewords (plus remainder
    /// bits) in a symbol of `version`: everything that is not a function pattern, format or
    /// version information.
    static func rawDataModules(version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignmentCount = version / 7 + 2
            result -= (25 * alignmentCount - 10) * alignmentCount - 55
            if version >= 7 {
                result -= 36
            }
        }
        return result
    }

    /// The total number of codewords (data + error correction) of `version`.
    static func totalCodewords(version: Int) -> Int {
        rawDataModules(version: version) / 8
    }

    /// The number of data codewords of `version` at `level`.
    static func dataCodewords(version: Int, level: QRCode.ErrorCorrection) -> Int {
        let row = level.tableIndex
        return totalCodewords(version: version)
            - eccCodewordsPerBlock[row][version] * errorCorrectionBlocks[row][version]
    }

    /// The bit length of the byte-mode character count indicator (Table 3).
    static func characterCountBits(version: Int) -> Int {
        version <= 9 ? 8 : 16
    }

    /// The most payload bytes a symbol of `version` holds in byte mode at `level`.
    static func byteCapacity(version: Int, level: QRCode.ErrorCorrection) -> Int {
        let bits = dataCodewords(version: version, level: level) * 8 - 4 - characterCountBits(version: version)
        return bits / 8
    }

    /// The row/column coordinates of alignment pattern centres of `version` (Annex E).
    static func alignmentPositions(version: Int) -> [Int] {
        guard version >= 2 else { return [] }
        let count = version / 7 + 2
        let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
        var positions = [Int](repeating: 6, count: count)
        var position = 17 + 4 * version - 7
        for index in stride(from: count - 1, through: 1, by: -1) {
            positions[index] = position
            position -= step
        }
        return positions
    }
}
