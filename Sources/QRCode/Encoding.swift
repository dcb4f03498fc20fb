// Turning a payload into the final codeword sequence: byte-mode segment, terminator, padding,
// error-correction blocks and interleaving (ISO/IEC 18004, 7.4 and 7.6).

/// A big-endian bit writer.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var bitCount = 0

    init(capacityBits: Int) {
        bytes.reserveCapacity((capacityBits + 7) / 8)
    }

    mutating func append(_ value: Int, bits: Int) {
        for shift in stride(from: bits - 1, through: 0, by: -1) {
            if bitCount % 8 == 0 {
                bytes.append(0)
            }
            if (value >> shift) & 1 == 1 {
                bytes[bytes.count - 1] |= UInt8(0x80 >> (bitCount % 8))
            }
            bitCount += 1
        }
    }

    mutating func appendByte(_ byte: UInt8) {
        if bitCount % 8 == 0 {
            bytes.append(byte)
            bitCount += 8
        } else {
            append(Int(byte), bits: 8)
        }
    }
}

enum Encoder {
    /// The data codewords of a byte-mode segment holding `payload` in `version` at `level`.
    /// The caller guarantees that the payload fits.
    static func dataCodewords(
        payload: [UInt8], version: Int, level: QRCode.ErrorCorrection
    ) -> [UInt8] {
        let capacityBytes = QRTables.dataCodewords(version: version, level: level)
        let capacityBits = capacityBytes * 8
        var writer = BitWriter(capacityBits: capacityBits)
        writer.append(0b0100, bits: 4)  // byte mode indicator
        writer.append(payload.count, bits: QRTables.characterCountBits(version: version))
        for byte in payload {
            writer.appendByte(byte)
        }
        // Terminator: up to four zero bits, then zero bits up to the next byte boundary.
        writer.append(0, bits: min(4, capacityBits - writer.bitCount))
        writer.append(0, bits: (8 - writer.bitCount % 8) % 8)
        var codewords = writer.bytes
        var pad: UInt8 = 0xEC
        while codewords.count < capacityBytes {
            codewords.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return codewords
    }

    /// Splits `data` into blocks, appends each block's error-correction codewords and interleaves
    /// the result: data codewords column by column, then error-correction codewords likewise.
    static func interleavedCodewords(
        data: [UInt8], version: Int, level: QRCode.ErrorCorrection
    ) -> [UInt8] {
        let blockCount = QRTables.errorCorrectionBlocks[level.tableIndex][version]
        let eccLength = QRTables.eccCodewordsPerBlock[level.tableIndex][version]
        let total = QRTables.totalCodewords(version: version)
        // Blocks in group 1 hold `shortLength` data codewords; group 2 blocks one more.
        let shortBlockCount = blockCount - total % blockCount
        let shortLength = total / blockCount - eccLength
        let generator = ReedSolomon.generator(degree: eccLength)

        var dataBlocks: [ArraySlice<UInt8>] = []
        var eccBlocks: [[UInt8]] = []
        dataBlocks.reserveCapacity(blockCount)
        eccBlocks.reserveCapacity(blockCount)
        var start = 0
        for blockIndex in 0..<blockCount {
            let length = shortLength + (blockIndex < shortBlockCount ? 0 : 1)
            let block = data[start..<(start + length)]
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.remainder(of: block, generator: generator))
            start += length
        }

        var result: [UInt8] = []
        result.reserveCapacity(total)
        for column in 0...shortLength {
            for block in dataBlocks where column < block.count {
                result.append(block[block.startIndex + column])
            }
        }
        for column in 0..<eccLength {
            for block in eccBlocks {
                result.append(block[column])
            }
        }
        return result
    }
}
