@testable import QRCode
import Testing

/// Reads the module matrix as rows of "#" (dark) and "." (light).
func rows(of code: QRCode) -> [String] {
    (0..<code.size).map { y in String((0..<code.size).map { x in code[x, y] ? "#" : "." }) }
}

@Suite("QRCode structure")
struct StructureTests {
    @Test("size is 17 + 4 × version for every version", arguments: 1...40)
    func sizes(version: Int) throws {
        let code = try QRCode(bytes: [0x42], errorCorrection: .low, minimumVersion: version)
        #expect(code.version == version)
        #expect(code.size == 17 + 4 * version)
        #expect((0...7).contains(code.mask))
    }

    @Test("an empty payload makes a version-1 symbol")
    func emptyPayload() throws {
        let code = try QRCode("")
        #expect(code.version == 1)
        #expect(code.errorCorrection == .medium)
    }

    @Test("version 1 holds 17/14/11/7 bytes at L/M/Q/H and one more byte needs version 2")
    func versionOneBoundary() throws {
        for (level, capacity) in zip(QRCode.ErrorCorrection.allCases, [17, 14, 11, 7]) {
            let full = try QRCode(String(repeating: "x", count: capacity), errorCorrection: level)
            #expect(full.version == 1, "\(level)")
            let over = try QRCode(String(repeating: "x", count: capacity + 1), errorCorrection: level)
            #expect(over.version == 2, "\(level)")
        }
    }

    @Test(
        "version boundaries, including the 8→16-bit count indicator at version 10",
        arguments: [
            (9, QRCode.ErrorCorrection.low, 230), (10, .low, 271), (9, .high, 98), (26, .medium, 1059),
            (39, .quartile, 1579),
        ])
    func versionBoundaries(version: Int, level: QRCode.ErrorCorrection, capacity: Int) throws {
        let full = try QRCode(bytes: [UInt8](repeating: 0x61, count: capacity), errorCorrection: level)
        #expect(full.version == version)
        let over = try QRCode(bytes: [UInt8](repeating: 0x61, count: capacity + 1), errorCorrection: level)
        #expect(over.version == version + 1)
    }

    /// Byte-mode capacities from ISO/IEC 18004:2015 Table 7, versions 1...40.
    static let standardCapacities: [QRCode.ErrorCorrection: [Int]] = [
        .low: [17, 32, 53, 78, 106, 134, 154, 192, 230, 271, 321, 367, 425, 458, 520, 586, 644, 718, 792, 858,
               929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732, 1840, 1952, 2068, 2188, 2303, 2431, 2563, 2699, 2809, 2953],
        .medium: [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
                  711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331],
        .quartile: [11, 20, 32, 46, 60, 74, 86, 108, 130, 151, 177, 203, 241, 258, 292, 322, 364, 394, 442, 482,
                    509, 565, 611, 661, 715, 751, 805, 868, 908, 982, 1030, 1112, 1168, 1228, 1283, 1351, 1423, 1499, 1579, 1663],
        .high: [7, 14, 24, 34, 44, 58, 64, 84, 98, 119, 137, 155, 177, 194, 220, 250, 280, 310, 338, 382,
                403, 439, 461, 511, 535, 593, 625, 658, 698, 742, 790, 842, 898, 958, 983, 1051, 1093, 1139, 1219, 1273],
    ]

    @Test("byte capacities of all 160 version/level pairs match the standard's table")
    func capacities() {
        for level in QRCode.ErrorCorrection.allCases {
            let computed = (1...40).map { QRTables.byteCapacity(version: $0, level: level) }
            #expect(computed == Self.standardCapacities[level], "\(level)")
        }
    }

    @Test("a payload too long for version 40 throws dataTooLong with the level's maximum")
    func tooLong() throws {
        for (level, maximum) in zip(QRCode.ErrorCorrection.allCases, [2953, 2331, 1663, 1273]) {
            #expect(throws: QRCodeError.dataTooLong(bytes: maximum + 1, maximum: maximum)) {
                try QRCode(bytes: [UInt8](repeating: 7, count: maximum + 1), errorCorrection: level)
            }
        }
        #expect(throws: QRCodeError.dataTooLong(bytes: 3000, maximum: 2331)) {
            try QRCode(String(repeating: "é", count: 1500))
        }
        let largest = try QRCode(bytes: [UInt8](repeating: 7, count: 2953), errorCorrection: .low)
        #expect(largest.version == 40)
    }

    @Test("minimumVersion is honoured and clamped to 1...40")
    func minimumVersion() throws {
        #expect(try QRCode(bytes: [1], minimumVersion: 0).version == 1)
        #expect(try QRCode(bytes: [1], minimumVersion: -3).version == 1)
        #expect(try QRCode(bytes: [1], minimumVersion: 41).version == 40)
        // At level M version 5 holds 84 bytes and version 6 holds 106.
        #expect(try QRCode(bytes: [UInt8](repeating: 1, count: 100), minimumVersion: 2).version == 6)
    }

    @Test("finder patterns with separators sit in three corners", arguments: [1, 2, 7, 21, 40])
    func finderPatterns(version: Int) throws {
        let code = try QRCode(bytes: Array("finder".utf8), errorCorrection: .quartile, minimumVersion: version)
        let size = code.size
        for (left, top) in [(0, 0), (size - 7, 0), (0, size - 7)] {
            for dy in 0..<7 {
                for dx in 0..<7 {
                    let ring = max(abs(dx - 3), abs(dy - 3))
                    #expect(code[left + dx, top + dy] == (ring != 2), "finder at (\(left), \(top)) + (\(dx), \(dy))")
                }
            }
        }
        // Separators: the light line between each finder and the rest of the symbol.
        for index in 0..<8 {
            #expect(!code[7, index] && !code[index, 7])  // top left
            #expect(!code[size - 8, index] && !code[size - 8 + index, 7])  // top right
            #expect(!code[7, size - 8 + index] && !code[index, size - 8])  // bottom left
        }
        // Timing patterns between the finders, and the dark module.
        for index in 8..<(size - 8) {
            #expect(code[index, 6] == index.isMultiple(of: 2))
            #expect(code[6, index] == index.isMultiple(of: 2))
        }
        #expect(code[8, size - 8])
    }

    @Test(
        "alignment patterns sit at the standard's centres (Annex E)",
        arguments: [
            (2, [6, 18]), (7, [6, 22, 38]), (32, [6, 34, 60, 86, 112, 138]),
            (40, [6, 30, 58, 86, 114, 142, 170]),
        ])
    func alignmentPatterns(version: Int, centres: [Int]) throws {
        #expect(QRTables.alignmentPositions(version: version) == centres)
        let code = try QRCode(bytes: [0xAB], errorCorrection: .high, minimumVersion: version)
        let last = centres.count - 1
        for (row, cy) in centres.enumerated() {
            for (column, cx) in centres.enumerated() {
                if (row == 0 && (column == 0 || column == last)) || (row == last && column == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 {
                        #expect(code[cx + dx, cy + dy] == (max(abs(dx), abs(dy)) != 1), "alignment at (\(cx), \(cy))")
                    }
                }
            }
        }
    }

    /// Format information bit strings from ISO/IEC 18004:2015 Annex C, Table C.1, after masking
    /// with 101010000010010, bit 14 first; indexed by data mask 0...7.
    static let formatTable: [QRCode.ErrorCorrection: [String]] = [
        .low: ["111011111000100", "111001011110011", "111110110101010", "111100010011101",
               "110011000101111", "110001100011000", "110110001000001", "110100101110110"],
        .medium: ["101010000010010", "101000100100101", "101111001111100", "101101101001011",
                  "100010111111001", "100000011001110", "100111110010111", "100101010100000"],
        .quartile: ["011010101011111", "011000001101000", "011111100110001", "011101000000110",
                    "010010010110100", "010000110000011", "010111011011010", "010101111101101"],
        .high: ["001011010001001", "001001110111110", "001110011100111", "001100111010000",
                "000011101100010", "000001001010101", "000110100001100", "000100000111011"],
    ]

    /// Both copies of the format information as read from the symbol, bit 14 first.
    static func formatInformation(of code: QRCode) -> (String, String) {
        let size = code.size
        // Copy 1: bits 14...9 along row 8 (x = 0...5), then (7, 8), (8, 8), (8, 7), and bits 5...0 up
        // column 8 (y = 5...0).
        var first: [(Int, Int)] = (0...5).map { ($0, 8) }
        first += [(7, 8), (8, 8), (8, 7)]
        first += (0...5).reversed().map { (8, $0) }
        // Copy 2: bits 14...8 down column 8 at the bottom left, bits 7...0 along row 8 at the right.
        var second: [(Int, Int)] = (0..<7).map { (8, size - 1 - $0) }
        second += (0..<8).map { (size - 8 + $0, 8) }
        func read(_ positions: [(Int, Int)]) -> String {
            String(positions.map { code[$0.0, $0.1] ? "1" : "0" })
        }
        return (read(first), read(second))
    }

    @Test(
        "format information matches the standard's table for every level and mask",
        arguments: QRCode.ErrorCorrection.allCases)
    func formatInformation(level: QRCode.ErrorCorrection) throws {
        for mask in 0...7 {
            let code = try QRCode(
                bytes: Array("format".utf8), errorCorrection: level, minimumVersion: 1, forcedMask: mask)
            #expect(code.mask == mask)
            let expected = try #require(Self.formatTable[level]?[mask])
            let (first, second) = Self.formatInformation(of: code)
            #expect(first == expected, "\(level) mask \(mask), copy 1")
            #expect(second == expected, "\(level) mask \(mask), copy 2")
        }
    }

    @Test("format information of automatically masked symbols names their level and mask")
    func formatInformationOfChosenMasks() throws {
        for payload in Corpus.roundTrip.prefix(30) {
            let code = try QRCode(
                bytes: payload.bytes, errorCorrection: payload.level, minimumVersion: payload.minimumVersion)
            let (first, second) = Self.formatInformation(of: code)
            #expect(first == Self.formatTable[code.errorCorrection]?[code.mask])
            #expect(second == first)
        }
    }

    /// Version information from ISO/IEC 18004:2015 Annex D, Table D.1, versions 7...40.
    static let versionTable: [Int] = [
        0x07C94, 0x085BC, 0x09A99, 0x0A4D3, 0x0BBF6, 0x0C762, 0x0D847, 0x0E60D, 0x0F928, 0x10B78,
        0x1145D, 0x12A17, 0x13532, 0x149A6, 0x15683, 0x168C9, 0x177EC, 0x18EC4, 0x191E1, 0x1AFAB,
        0x1B08E, 0x1CC1A, 0x1D33F, 0x1ED75, 0x1F250, 0x209D5, 0x216F0, 0x228BA, 0x2379F, 0x24B0B,
        0x2542E, 0x26A64, 0x27541, 0x28C69,
    ]

    @Test("version information matches the standard's table in both corners", arguments: [7, 8, 13, 20, 27, 34, 40])
    func versionInformation(version: Int) throws {
        let code = try QRCode(bytes: [1, 2, 3], errorCorrection: .low, minimumVersion: version)
        let size = code.size
        var topRight = 0
        var bottomLeft = 0
        for bit in 0..<18 {
            // Bit i sits at column size - 11 + i % 3, row i / 3 (and transposed at the bottom left).
            if code[size - 11 + bit % 3, bit / 3] { topRight |= 1 << bit }
            if code[bit / 3, size - 11 + bit % 3] { bottomLeft |= 1 << bit }
        }
        #expect(topRight == Self.versionTable[version - 7])
        #expect(bottomLeft == Self.versionTable[version - 7])
    }

    @Test("every version's version information equals the table")
    func versionBits() {
        #expect((7...40).map { ModuleGrid.versionBits(version: $0) } == Self.versionTable)
    }

    /// "hello" at level M: version 1, mask 7. Cross-checked module for module against the Python
    /// `qrcode` package 8.2 (byte mode, same version and mask), whose penalty-based choice of mask
    /// agrees with ours here.
    static let helloVersion1: [String] = [
            "#######..##...#######",
            "#.....#..##...#.....#",
            "#.###.#..#..#.#.###.#",
            "#.###.#...##..#.###.#",
            "#.###.#..##.#.#.###.#",
            "#.....#.#..##.#.....#",
            "#######.#.#.#.#######",
            "...........##........",
            "#..#.##.##...#.#.....",
            "..#.##....#...#....##",
            "...##.####..##...##.#",
            "###.##..#..#.....#.##",
            ".##.#.##..#.#.#.#....",
            "........##.#...##.#.#",
            "#######...#..#.#.###.",
            "#.....#.#.####.##....",
            "#.###.#....#..###...#",
            "#.###.#.##.#...#.####",
            "#.###.#..##.#...#.#.#",
            "#.....#..##..##......",
            "#######.#####..#.#.#.",
    ]

    /// "Bridges: version 7, level Q" with minimumVersion 7: version 7 (with version information),
    /// mask 5; cross-checked against the Python `qrcode` package 8.2 like the vector above.
    static let bridgesVersion7: [String] = [
            "#######.#...#...##.####....#..###...#.#######",
            "#.....#.####...###.....#...###.....#..#.....#",
            "#.###.#....##...######..#....###...#..#.###.#",
            "#.###.#..#..###.##.##.#.###.#...##.##.#.###.#",
            "#.###.#....#...##..######....###.####.#.###.#",
            "#.....#..#..####....#...##............#.....#",
            "#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#######",
            ".........##..##.###.#...#.....#....#.........",
            ".#....###.#..#.##...######..#####..###.....##",
            "#.#..#...#.#.#.#.#####..#.#...#...#.#####.#.#",
            "#.###.##...#.#.##...####.#..#####..##.#######",
            "..####.#.#....##.##..#.#####.#.#.##.#..#..#.#",
            "#....##..##.#.#.#..##.##.#..##.###.#.####.#..",
            ".###.#.#..###.#..#.##..#.##..#.#.##.#..#.#..#",
            "#.#####.#.....#...##.#.#...#..#..#..####...#.",
            "...#...###.#..#.#.######..##..#.####..#.##.##",
            "##.##.##..#...#.#....#####...####....#..#.#.#",
            "....##.#####..###.###...#...#.#.##.##...#.#..",
            "#..#..#...#..#..#.###.....###.#.......#...#.#",
            "######.#..#..#..#####.#####..#.##..#####..###",
            "#########...##.####.#####.#.#..#.#.########.#",
            "....#...#.......#..##...##...#.####.#...#.#.#",
            ".##.#.#.##.######.###.#.#...#.##.##.#.#.#..##",
            "..#.#...##.###....#.#...#.##.##.###.#...###.#",
            "#..######.....#..#.######.####.###..#####....",
            ".###.#.###.....##.#...#..#.#.##.###.#.#..#.#.",
            "#....###..#..##....###..##.#....##..###..#...",
            "#.#..#....###.#...#.#.##.##.###.#.#...#.#####",
            "#...####...#####.###....#...#####..##..#.....",
            "#..###.###.#..####.#..##..#.###.#..#.#.##.#..",
            "..#...#.#.......#.#.##.#.....#....#..###..#..",
            "....#..#..#..#.#...###.#...#.#.#.##.##.##.#.#",
            "###.###...#.##.#..####..##.#.....##..########",
            ".#####.###.##.##.##..#.#.#.###.###..#...##..#",
            "....#.###.......###.#.....##..#..#..#####....",
            ".####...###......#..##..#...#.#........###.#.",
            "#..##.#.#.#..#.#....######.##.#...#.#########",
            "........##.....##.#.#...##....#.#...#...#.#.#",
            "#######.#.#.#.#.##.##.#.##..#####..##.#.####.",
            "#.....#....##...#.#.#...#.##.#.##.###...#.##.",
            "#.###.#...#.#.#..########.........#########..",
            "#.###.#..#######.##.###.#.##.#.#.....#..##.#.",
            "#.###.#....#.#.##........##.#####..####.##.##",
            "#.....#.#....#######..###..#..#.####.#..##...",
            "#######....####...####.##.##.###.#.##.##..##.",
    ]

    @Test("known symbols match module for module")
    func knownVectors() throws {
        let hello = try QRCode("hello")
        #expect(hello.version == 1 && hello.mask == 7)
        #expect(rows(of: hello) == Self.helloVersion1)

        let bridges = try QRCode(
            bytes: Array("Bridges: version 7, level Q".utf8), errorCorrection: .quartile, minimumVersion: 7)
        #expect(bridges.version == 7 && bridges.mask == 5)
        #expect(rows(of: bridges) == Self.bridgesVersion7)
    }

    @Test("the subscript reads light outside the symbol")
    func outOfRange() throws {
        let code = try QRCode("edge")
        for (x, y) in [(-1, 0), (0, -1), (code.size, 0), (0, code.size), (Int.min, Int.max)] {
            #expect(!code[x, y])
        }
        #expect(code[0, 0] && code[code.size - 1, 0] && code[0, code.size - 1])
    }

    @Test("encoding is deterministic and Hashable follows the content")
    func equality() throws {
        let first = try QRCode("same")
        let second = try QRCode(bytes: Array("same".utf8))
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first != (try QRCode("same", errorCorrection: .high)))
        #expect(first != (try QRCode("Same")))
        #expect(Set([first, second]).count == 1)
    }

    @Test("a full version-40 symbol encodes quickly")
    func performance() throws {
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            _ = try QRCode(bytes: [UInt8](repeating: 0x5A, count: 1273), errorCorrection: .high)
        }
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }
}
