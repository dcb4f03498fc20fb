import Foundation
import QRCode
import Testing

@Suite("QRCode rendering")
struct RenderingTests {
    /// Turns terminal text back into ink booleans, two rows per line.
    static func inkRows(_ text: String) -> [[Bool]] {
        var rows: [[Bool]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var top: [Bool] = []
            var bottom: [Bool] = []
            for character in line {
                switch character {
                case " ": top.append(false); bottom.append(false)
                case "▀": top.append(true); bottom.append(false)
                case "▄": top.append(false); bottom.append(true)
                case "█": top.append(true); bottom.append(true)
                default: Issue.record("unexpected character \(character)")
                }
            }
            rows.append(top)
            rows.append(bottom)
        }
        return rows
    }

    @Test(
        "terminal text has (size + 2q + 1) / 2 lines of equal width and shows every module",
        arguments: [1, 2, 10, 40], [0, 1, 2, 4])
    func terminal(version: Int, quietZone: Int) throws {
        let code = try QRCode(bytes: Array("terminal".utf8), errorCorrection: .medium, minimumVersion: version)
        let side = code.size + 2 * quietZone
        for invert in [false, true] {
            let text = code.terminalString(quietZone: quietZone, invert: invert)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == (side + 1) / 2)
            #expect(lines.allSatisfy { $0.count == side }, "every line is \(side) characters wide")
            #expect(!text.hasSuffix("\n"))

            let ink = Self.inkRows(text)
            for row in 0..<side {
                for column in 0..<side {
                    let dark = code[column - quietZone, row - quietZone]
                    #expect(ink[row][column] == (invert ? !dark : dark), "(\(column), \(row)) invert \(invert)")
                }
            }
            // An odd height leaves the lower half of the last line blank in both modes.
            if side % 2 == 1 {
                #expect(ink[side].allSatisfy { !$0 })
            }
        }
    }

    @Test("the default draws light modules as ink, for dark terminals, with a quiet zone of 2")
    func terminalDefaults() throws {
        let code = try QRCode("default")
        let text = code.terminalString()
        #expect(text == code.terminalString(quietZone: 2, invert: true))
        let firstLine = try #require(text.split(separator: "\n").first)
        #expect(firstLine == Substring(String(repeating: "█", count: code.size + 4)))
        #expect(code.terminalString(quietZone: -1) == code.terminalString(quietZone: 0))
    }

    @Test("terminal rendering of version 40 is fast and linear")
    func terminalLarge() throws {
        let code = try QRCode(bytes: [UInt8](repeating: 1, count: 2000), errorCorrection: .low)
        let text = code.terminalString(quietZone: 4)
        #expect(text.split(separator: "\n").count == (code.size + 8 + 1) / 2)
    }

    /// Rasterises the `d` attribute of the SVG's path, which uses only absolute `M x,y` followed by
    /// relative `h`, `v` and `z`, into a grid of `side × side` user units.
    static func rasterise(_ svg: String, side: Int) throws -> [[Bool]] {
        let start = try #require(svg.range(of: " d=\""))
        let rest = svg[start.upperBound...]
        let end = try #require(rest.firstIndex(of: "\""))
        let path = Array(rest[..<end])
        var grid = [[Bool]](repeating: [Bool](repeating: false, count: side), count: side)
        var index = 0
        func number() -> Int {
            var sign = 1
            if index < path.count, path[index] == "-" {
                sign = -1
                index += 1
            }
            var value = 0
            while index < path.count, let digit = path[index].wholeNumberValue {
                value = value * 10 + digit
                index += 1
            }
            return sign * value
        }
        while index < path.count {
            #expect(path[index] == "M")
            index += 1
            let x = number()
            #expect(path[index] == ",")
            index += 1
            let y = number()
            #expect(path[index] == "h")
            index += 1
            let width = number()
            #expect(path[index] == "v")
            index += 1
            let height = number()
            #expect(path[index] == "h")
            index += 1
            #expect(number() == -width)
            #expect(path[index] == "z")
            index += 1
            for row in y..<(y + height) {
                for column in x..<(x + width) {
                    grid[row][column] = true
                }
            }
        }
        return grid
    }

    @Test("SVG has the right viewBox, one path, and the path covers exactly the dark modules",
          arguments: [(1, 8, 4), (3, 1, 0), (12, 3, 2), (40, 2, 4)])
    func svg(version: Int, moduleSize: Int, quietZone: Int) throws {
        let code = try QRCode(bytes: Array("svg".utf8), errorCorrection: .high, minimumVersion: version)
        let svg = code.svg(moduleSize: moduleSize, quietZone: quietZone)
        let side = (code.size + 2 * quietZone) * moduleSize
        #expect(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("<rect x=\"0\" y=\"0\" width=\"\(side)\" height=\"\(side)\" fill=\"#ffffff\"/>"))
        #expect(svg.components(separatedBy: "<path").count == 2, "exactly one path")
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.filter { $0 == "<" }.count == svg.filter { $0 == ">" }.count)

        let grid = try Self.rasterise(svg, side: side)
        for y in 0..<side {
            for x in 0..<side {
                let dark = code[x / moduleSize - quietZone, y / moduleSize - quietZone]
                if grid[y][x] != dark {
                    Issue.record("pixel (\(x), \(y)) differs")
                    return
                }
            }
        }
    }

    @Test("SVG defaults: 8 units per module and a 4-module quiet zone")
    func svgDefaults() throws {
        let code = try QRCode("defaults")
        let side = (code.size + 8) * 8
        #expect(code.svg().contains("viewBox=\"0 0 \(side) \(side)\""))
        #expect(code.svg() == code.svg(moduleSize: 8, quietZone: 4))
    }
}
