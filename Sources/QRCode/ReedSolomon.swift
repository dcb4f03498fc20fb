// Reed–Solomon error correction over GF(2^8) with the QR code field polynomial
// x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and generator roots α^0 … α^(n-1) (ISO/IEC 18004, 7.5.2).

enum GaloisField {
    /// `exp[i] = α^i`, doubled in length so that `exp[log a + log b]` needs no modulo.
    static let exp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 512)
        var value = 1
        for index in 0..<255 {
            table[index] = UInt8(value)
            value <<= 1
            if value & 0x100 != 0 {
                value ^= 0x11D
            }
        }
        for index in 255..<512 {
            table[index] = table[index - 255]
        }
        return table
    }()

    /// `log[a]` for a ≠ 0 (`log[0]` is unused).
    static let log: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for index in 0..<255 {
            table[Int(exp[index])] = UInt8(index)
        }
        return table
    }()

    static func multiply(_ lhs: UInt8, _ rhs: UInt8) -> UInt8 {
        if lhs == 0 || rhs == 0 {
            return 0
        }
        return exp[Int(log[Int(lhs)]) + Int(log[Int(rhs)])]
    }
}

enum ReedSolomon {
    /// The generator polynomial of `degree`, highest power first, without its leading 1.
    static func generator(degree: Int) -> [UInt8] {
        var coefficients = [UInt8](repeating: 0, count: degree)
        coefficients[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            // Multiply the polynomial by (x - root).
            for index in 0..<degree {
                coefficients[index] = GaloisField.multiply(coefficients[index], root)
                if index + 1 < degree {
                    coefficients[index] ^= coefficients[index + 1]
                }
            }
            root = GaloisField.multiply(root, 0x02)
        }
        return coefficients
    }

    /// The error-correction codewords of `data`: the remainder of data(x)·x^n divided by `generator`.
    static func remainder(of data: ArraySlice<UInt8>, generator: [UInt8]) -> [UInt8] {
        let degree = generator.count
        var result = [UInt8](repeating: 0, count: degree)
        for byte in data {
            let factor = byte ^ result[0]
            for index in 0..<(degree - 1) {
                result[index] = result[index + 1] ^ GaloisField.multiply(generator[index], factor)
            }
            result[degree - 1] = GaloisField.multiply(generator[degree - 1], factor)
        }
        return result
    }
}
