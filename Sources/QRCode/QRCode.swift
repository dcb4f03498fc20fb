/// A QR code symbol (ISO/IEC 18004 Model 2) holding a payload in byte mode.
///
/// Building a `QRCode` does all of the encoding: it picks the smallest version (1–40) that holds the
/// payload at the requested error-correction level, splits the data into Reed–Solomon blocks,
/// interleaves them, places them around the function patterns, and applies whichever of the eight
/// data masks scores the lowest penalty. The result is an immutable matrix of modules, read with
/// ``subscript(_:_:)`` or rendered with ``terminalString(quietZone:invert:)`` or
/// ``svg(moduleSize:quietZone:)``.
///
/// ```swift
/// let code = try QRCode("https://example.com", errorCorrection: .medium)
/// print(code.terminalString())
/// ```
public struct QRCode: Sendable, Hashable {
    /// How much of the symbol may be damaged and still be read; higher levels make larger symbols.
    public enum ErrorCorrection: Sendable, Hashable, CaseIterable {
        /// Level L: about 7 % of the codewords can be restored.
        case low
        /// Level M: about 15 % of the codewords can be restored.
        case medium
        /// Level Q: about 25 % of the codewords can be restored.
        case quartile
        /// Level H: about 30 % of the codewords can be restored.
        case high
    }

    /// The symbol version, from 1 (21×21 modules) to 40 (177×177 modules).
    public let version: Int

    /// The error-correction level the symbol was encoded with.
    public let errorCorrection: ErrorCorrection

    /// The data mask pattern applied to the symbol, from 0 to 7 (ISO/IEC 18004, Table 10).
    public let mask: Int

    /// Row-major module colours, `true` for dark; `size * size` entries.
    private let modules: [Bool]

    /// The width and height of the symbol in modules, `17 + 4 * version`, without any quiet zone.
    public var size: Int { 17 + 4 * version }

    /// Encodes the UTF-8 bytes of `text` in the smallest version that holds them.
    ///
    /// - Parameters:
    ///   - text: The text to encode; it is stored as its UTF-8 bytes in byte mode, which readers
    ///     generally decode back to the same text.
    ///   - errorCorrection: The error-correction level; ``ErrorCorrection/medium`` by default.
    /// - Throws: ``QRCodeError/dataTooLong(bytes:maximum:)`` when the UTF-8 bytes do not fit in a
    ///   version-40 symbol at `errorCorrection`.
    public init(_ text: String, errorCorrection: ErrorCorrection = .medium) throws(QRCodeError) {
        try self.init(bytes: Array(text.utf8), errorCorrection: errorCorrection, minimumVersion: 1)
    }

    /// Encodes arbitrary bytes in the smallest version, no smaller than `minimumVersion`, that
    /// holds them.
    ///
    /// - Parameters:
    ///   - bytes: The payload, stored unchanged in byte mode.
    ///   - errorCorrection: The error-correction level; ``ErrorCorrection/medium`` by default.
    ///   - minimumVersion: The smallest version to use, for a symbol of a steady size whatever the
    ///     payload; values outside 1...40 are clamped into that range.
    /// - Throws: ``QRCodeError/dataTooLong(bytes:maximum:)`` when `bytes` do not fit in a version-40
    ///   symbol at `errorCorrection`.
    public init(
        bytes: [UInt8], errorCorrection: ErrorCorrection = .medium, minimumVersion: Int = 1
    ) throws(QRCodeError) {
        try self.init(
            bytes: bytes, errorCorrection: errorCorrection, minimumVersion: minimumVersion,
            forcedMask: nil)
    }

    /// The designated initialiser; `forcedMask` skips mask selection (for tests and reference
    /// comparisons).
    init(
        bytes: [UInt8], errorCorrection level: ErrorCorrection, minimumVersion: Int,
        forcedMask: Int?
    ) throws(QRCodeError) {
        let lowest = min(max(minimumVersion, 1), 40)
        guard
            let version = (lowest...40).first(where: {
                bytes.count <= QRTables.byteCapacity(version: $0, level: level)
            })
        else {
            throw QRCodeError.dataTooLong(
                bytes: bytes.count, maximum: QRTables.byteCapacity(version: 40, level: level))
        }

        let data = Encoder.dataCodewords(payload: bytes, version: version, level: level)
        let codewords = Encoder.interleavedCodewords(data: data, version: version, level: level)
        var grid = ModuleGrid(version: version)
        grid.drawFunctionPatterns()
        grid.placeCodewords(codewords)

        let chosenMask: Int
        if let forcedMask, (0...7).contains(forcedMask) {
            chosenMask = forcedMask
        } else {
            var best = (mask: 0, penalty: Int.max)
            for candidate in 0...7 {
                grid.applyMask(candidate)
                grid.drawFormatBits(level: level, mask: candidate)
                let penalty = grid.penalty()
                if penalty < best.penalty {
                    best = (candidate, penalty)
                }
                grid.applyMask(candidate)  // undo
            }
            chosenMask = best.mask
        }
        grid.applyMask(chosenMask)
        grid.drawFormatBits(level: level, mask: chosenMask)

        self.version = version
        self.errorCorrection = level
        self.mask = chosenMask
        self.modules = grid.dark
    }

    /// The colour of the module in column `x` and row `y`, both counted from the top-left corner.
    ///
    /// - Returns: `true` for a dark module; `false` for a light one and for any coordinate outside
    ///   `0..<size`, so that the quiet zone around the symbol reads as light.
    public subscript(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }
}
