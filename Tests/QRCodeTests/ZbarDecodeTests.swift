import Foundation
import QRCode
import Testing

/// Finding and running `zbarimg` (Debian package `zbar-tools`).
enum Zbar {
    /// The first executable `zbarimg` on `PATH`, if any.
    static let executablePath: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/zbarimg"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }()

    /// Run when zbarimg is installed, and always under CI (where a missing zbarimg must fail).
    static var shouldRun: Bool {
        executablePath != nil || ProcessInfo.processInfo.environment["CI"] != nil
    }

    /// A binary PGM (P5) of `code`: `scale` pixels per module, a light quiet zone of
    /// `quietZone` modules, dark modules black (0) and light ones white (255).
    static func pgm(of code: QRCode, scale: Int = 4, quietZone: Int = 4) -> [UInt8] {
        let side = (code.size + 2 * quietZone) * scale
        var image = Array("P5\n\(side) \(side)\n255\n".utf8)
        image.reserveCapacity(image.count + side * side)
        for pixelY in 0..<side {
            let y = pixelY / scale - quietZone
            for pixelX in 0..<side {
                image.append(code[pixelX / scale - quietZone, y] ? 0 : 255)
            }
        }
        return image
    }

    /// Decodes `code` with `zbarimg --raw -q -Sbinary` and returns its output with the single
    /// newline zbarimg appends removed.
    static func decode(_ code: QRCode) throws -> [UInt8] {
        let executable = try #require(
            executablePath, "zbarimg is not on PATH: install the Debian package zbar-tools")
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("qrcode-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("code.pgm")
        try Data(pgm(of: code)).write(to: file)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--raw", "-q", "-Sbinary", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(
            process.terminationStatus == 0,
            "zbarimg exited with \(process.terminationStatus) for version \(code.version), \(code.errorCorrection)")

        var bytes = [UInt8](data)
        if bytes.last == 0x0A {
            bytes.removeLast()
        }
        return bytes
    }
}

@Suite("zbarimg decodes what QRCode encodes")
struct ZbarDecodeTests {
    @Test(
        "round trip through zbarimg",
        .enabled(
            if: Zbar.shouldRun,
            "needs zbarimg on PATH (Debian package zbar-tools); skipped locally without it, always run when CI is set"),
        arguments: Corpus.roundTrip)
    func roundTrip(_ payload: Payload) throws {
        let code = try QRCode(
            bytes: payload.bytes, errorCorrection: payload.level, minimumVersion: payload.minimumVersion)
        let decoded = try Zbar.decode(code)
        #expect(
            decoded == payload.bytes,
            "version \(code.version), \(code.errorCorrection), mask \(code.mask): zbar read \(decoded.count) bytes")
    }

    @Test(
        "full version-40 symbols at every level",
        .enabled(
            if: Zbar.shouldRun,
            "needs zbarimg on PATH (Debian package zbar-tools); skipped locally without it, always run when CI is set"),
        arguments: zip(QRCode.ErrorCorrection.allCases, [2953, 2331, 1663, 1273]))
    func fullCapacity(level: QRCode.ErrorCorrection, capacity: Int) throws {
        var random = SplitMix64(state: UInt64(capacity))
        let bytes = random.bytes(capacity)
        let code = try QRCode(bytes: bytes, errorCorrection: level)
        #expect(code.version == 40)
        #expect(try Zbar.decode(code) == bytes)
    }

    @Test("the corpus is wide enough: 60+ payloads, every level, versions 1 to 40")
    func corpusCoverage() throws {
        let codes = try Corpus.roundTrip.map { payload throws(QRCodeError) in
            try QRCode(bytes: payload.bytes, errorCorrection: payload.level, minimumVersion: payload.minimumVersion)
        }
        #expect(codes.count >= 60)
        #expect(Set(codes.map(\.errorCorrection)) == Set(QRCode.ErrorCorrection.allCases))
        let versions = Set(codes.map(\.version))
        #expect(versions.contains(1))
        #expect(versions.contains(40))
        #expect(versions.contains { $0 >= 35 && $0 < 40 })
        #expect(versions.count >= 20, "versions covered: \(versions.sorted())")
        #expect(Corpus.roundTrip.contains { $0.bytes.count == 1000 })
        #expect(Corpus.roundTrip.contains { $0.bytes.contains(0x00) && $0.bytes.contains(0xFF) })
    }
}
