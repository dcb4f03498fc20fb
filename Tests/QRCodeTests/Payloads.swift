import QRCode
import Testing

/// One payload for the round-trip test: bytes, level and the smallest version to use.
struct Payload: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let level: QRCode.ErrorCorrection
    let minimumVersion: Int

    init(_ name: String, _ bytes: [UInt8], _ level: QRCode.ErrorCorrection, minimumVersion: Int = 1) {
        self.name = name
        self.bytes = bytes
        self.level = level
        self.minimumVersion = minimumVersion
    }

    init(_ name: String, text: String, _ level: QRCode.ErrorCorrection, minimumVersion: Int = 1) {
        self.init(name, Array(text.utf8), level, minimumVersion: minimumVersion)
    }

    var testDescription: String { "\(name) (\(bytes.count) B, \(level), v≥\(minimumVersion))" }
}

/// A small deterministic generator (SplitMix64), so the corpus is the same on every run.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    mutating func ascii(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_/:;!?")
        return String((0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }
}

/// Standard base64 with padding, written here to keep the tests free of Foundation quirks.
func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var output = ""
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = (Int(chunk[0]) << 16) | (chunk.count > 1 ? Int(chunk[1]) << 8 : 0)
            | (chunk.count > 2 ? Int(chunk[2]) : 0)
        for position in 0..<4 {
            if position <= chunk.count {
                output.append(alphabet[(value >> (18 - 6 * position)) & 0x3F])
            } else {
                output.append("=")
            }
        }
        index += 3
    }
    return output
}

enum Corpus {
    /// The payloads decoded by zbar: short and long ASCII, URLs, UTF-8, binary, WhatsApp-style
    /// pairing strings, at every level, in versions from 1 to 40.
    static let roundTrip: [Payload] = {
        var random = SplitMix64(state: 0x5EED_B41D_6E5)
        var payloads: [Payload] = []

        // Short ASCII at every level.
        let short = [
            "a", "Hello, world!", "Bridges", "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "The quick brown fox jumps over the lazy dog", "  spaces  around  ", "line one\nline two\r\nthree\ttab",
        ]
        let levels = QRCode.ErrorCorrection.allCases
        for (index, text) in short.enumerated() {
            payloads.append(Payload("ascii #\(index)", text: text, levels[index % 4]))
        }

        // Version 1/2 boundaries: the largest payload of version 1 and one byte more, per level.
        for (level, capacity) in zip(levels, [17, 14, 11, 7]) {
            payloads.append(Payload("v1 full", text: random.ascii(capacity), level))
            payloads.append(Payload("v1 full + 1", text: random.ascii(capacity + 1), level))
        }

        // URLs.
        let urls = [
            "https://example.com",
            "https://developers.beeper.com/desktop-api?x=1&y=two#fragment",
            "https://matrix.to/#/@alice:example.org?via=example.org&via=matrix.org",
            "http://127.0.0.1:23373/v1/bridges/demo-qr/login-sessions/ls_0123456789abcdef/steps/demo.qr.1",
            "https://example.com/search?q=%E6%97%A5%E6%9C%AC%E8%AA%9E&lang=ja&page=2&sort=desc&filter=a%2Cb%2Cc",
            "mailto:someone@example.com?subject=Hello%20there&body=QR%20code%20test",
            "WIFI:T:WPA;S:Bridges Lab;P:correct horse battery staple;;",
        ]
        for (index, url) in urls.enumerated() {
            payloads.append(Payload("url #\(index)", text: url, levels[(index + 1) % 4]))
        }

        // UTF-8: accents, CJK, emoji, other scripts.
        let unicode = [
            "héllo wörld, café naïve façade über résumé",
            "日本語のテキストを QR コードに",
            "中文二维码测试：桥接",
            "한국어 텍스트",
            "🙂🚀🌉👩‍💻🇫🇷",
            "Привет, мир! Ελληνικά · العربية · עברית",
            "Mixed: a→b ≤ c ≠ d ∑ ∞ — “quotes” … 😀 end",
            String(repeating: "🌉 Bridges 橋 ", count: 20),
        ]
        for (index, text) in unicode.enumerated() {
            payloads.append(Payload("utf-8 #\(index)", text: text, levels[(index + 2) % 4]))
        }

        // Binary-looking bytes, including 0x00 and 0xFF.
        payloads.append(Payload("0x00", [0x00], .low))
        payloads.append(Payload("0xFF", [0xFF], .high))
        payloads.append(Payload("00 FF alternating", Array(repeating: [0x00, 0xFF], count: 40).flatMap { $0 }, .medium))
        payloads.append(Payload("all 256 byte values", (0...255).map { UInt8($0) }, .quartile))
        payloads.append(Payload("zeros", [UInt8](repeating: 0, count: 100), .low))
        payloads.append(Payload("0xFF run", [UInt8](repeating: 0xFF, count: 64), .high))
        for (index, count) in [3, 31, 77, 150, 333, 600].enumerated() {
            payloads.append(Payload("random bytes #\(index)", random.bytes(count), levels[index % 4]))
        }

        // WhatsApp-style pairing strings: "2@ref,noiseKey,identityKey,advSecret".
        for index in 0..<8 {
            let reference = base64(random.bytes(18 + 9 * index))
            let text = "2@\(reference),\(base64(random.bytes(32))),\(base64(random.bytes(32))),"
                + base64(random.bytes(32))
            payloads.append(Payload("whatsapp #\(index)", text: text, levels[index % 4]))
        }

        // Long payloads up to 1,000 bytes.
        for (index, count) in [250, 400, 550, 700, 850, 1000].enumerated() {
            payloads.append(Payload("long ascii #\(index)", text: random.ascii(count), levels[(index + 3) % 4]))
        }
        payloads.append(Payload("1000 random bytes", random.bytes(1000), .low))
        payloads.append(Payload("1000 bytes at H", random.bytes(1000), .high))  // version 36
        payloads.append(Payload("990 bytes at Q", text: random.ascii(990), .quartile))

        // Larger versions chosen explicitly, short payloads inside.
        for (index, version) in [5, 12, 18, 23, 27, 31, 35, 38, 40].enumerated() {
            payloads.append(
                Payload(
                    "forced v\(version)", text: "minimum version \(version)", levels[index % 4],
                    minimumVersion: version))
        }
        return payloads
    }()
}
