// Text and vector renderings of a QR code.

extension QRCode {
    /// Renders the symbol for a terminal with the Unicode half blocks `▀`, `▄`, `█` and space, two
    /// module rows per text line, surrounded by a light quiet zone of `quietZone` modules.
    ///
    /// A terminal draws characters in *ink* (the foreground colour) on its background, so which
    /// modules become ink decides whether the code comes out right or as a negative:
    ///
    /// - `invert: true` (the default) draws the **light** modules, quiet zone included, as ink and
    ///   leaves the dark modules as background. On the usual dark terminal (light text on a dark
    ///   background) that shows dark modules dark on a light field — a correctly coloured code that
    ///   phone cameras read, which is why it is the default.
    /// - `invert: false` draws the **dark** modules as ink, for terminals with dark text on a light
    ///   background (and for printing or pasting the text on paper).
    ///
    /// When the symbol plus quiet zone has an odd number of rows, the lower half of the last line
    /// lies outside it and is left as background in both modes.
    ///
    /// - Parameters:
    ///   - quietZone: The width of the light border in modules; 2 by default (the standard asks for
    ///     4, but terminals add their own margin). Negative values count as 0.
    ///   - invert: Whether the light modules rather than the dark ones are drawn as ink; `true` by
    ///     default, as explained above.
    /// - Returns: `(size + 2 * quietZone + 1) / 2` lines of `size + 2 * quietZone` characters each,
    ///   joined by `"\n"`, with no trailing newline. Spaces are never trimmed, so every line has the
    ///   same width.
    public func terminalString(quietZone: Int = 2, invert: Bool = true) -> String {
        let border = max(quietZone, 0)
        let width = size + 2 * border
        let height = size + 2 * border
        let lineCount = (height + 1) / 2

        func isInk(column: Int, row: Int) -> Bool {
            guard row < height else { return false }  // padding below an odd last row
            return self[column - border, row - border] != invert
        }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(lineCount * (width * 3 + 1))
        for line in 0..<lineCount {
            if line > 0 {
                bytes.append(0x0A)
            }
            for column in 0..<width {
                let top = isInk(column: column, row: 2 * line)
                let bottom = isInk(column: column, row: 2 * line + 1)
                switch (top, bottom) {
                case (false, false): bytes.append(0x20)  // " "
                case (true, false): bytes.append(contentsOf: [0xE2, 0x96, 0x80])  // "▀"
                case (false, true): bytes.append(contentsOf: [0xE2, 0x96, 0x84])  // "▄"
                case (true, true): bytes.append(contentsOf: [0xE2, 0x96, 0x88])  // "█"
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Renders the symbol as a standalone SVG document: a white background `<rect>` covering the
    /// whole image and a single black `<path>` made of the dark modules (one rectangle per
    /// horizontal run), with crisp edges.
    ///
    /// - Parameters:
    ///   - moduleSize: The side of one module in SVG user units (pixels at 100 %); 8 by default.
    ///     Values below 1 count as 1.
    ///   - quietZone: The width of the light border in modules; 4 by default, as the standard asks.
    ///     Negative values count as 0.
    /// - Returns: An SVG document whose `viewBox` is `0 0 N N`, and whose `width` and `height` are
    ///   `N`, for `N = (size + 2 * quietZone) * moduleSize`.
    public func svg(moduleSize: Int = 8, quietZone: Int = 4) -> String {
        let unit = max(moduleSize, 1)
        let border = max(quietZone, 0)
        let side = (size + 2 * border) * unit

        var path = ""
        path.reserveCapacity(size * size * 4)
        for y in 0..<size {
            var x = 0
            while x < size {
                guard self[x, y] else {
                    x += 1
                    continue
                }
                let start = x
                while x < size && self[x, y] {
                    x += 1
                }
                let runWidth = (x - start) * unit
                path += "M\((start + border) * unit),\((y + border) * unit)"
                path += "h\(runWidth)v\(unit)h-\(runWidth)z"
            }
        }

        var document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        document += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""
        document += " viewBox=\"0 0 \(side) \(side)\" width=\"\(side)\" height=\"\(side)\""
        document += " shape-rendering=\"crispEdges\">\n"
        document += "<rect x=\"0\" y=\"0\" width=\"\(side)\" height=\"\(side)\" fill=\"#ffffff\"/>\n"
        document += "<path fill=\"#000000\" d=\"\(path)\"/>\n"
        document += "</svg>\n"
        return document
    }
}
