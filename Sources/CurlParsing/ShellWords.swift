/// Splits a command line the way a shell would, without expanding anything: the words of a
/// command pasted from a browser's "Copy as cURL", in bash's form or in Windows cmd's.
enum ShellWords {
    enum Failure: Error, Equatable {
        /// The text ends inside a quote: most likely only part of the command was pasted.
        case unterminatedQuote
    }

    static func split(_ text: String) throws(Failure) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            switch character {
            // "\r\n" is one Character in Swift: a pasted Windows line end.
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "\\":
                inWord = true
                guard let next = characters.popFirst() else { break }
                if next == "\n" || next == "\r\n" {
                    // A line continuation joins lines; alone between words it is no word.
                    if word.isEmpty { inWord = false }
                } else {
                    word.append(next)
                }
            case "'":
                inWord = true
                word += try singleQuoted(&characters)
            case "\"":
                inWord = true
                word += try doubleQuoted(&characters)
            case "$" where characters.first == "'":
                characters.removeFirst()
                inWord = true
                word += try ansiCQuoted(&characters)
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    private static func singleQuoted(_ characters: inout ArraySlice<Character>) throws(Failure) -> String {
        guard let end = characters.firstIndex(of: "'") else { throw .unterminatedQuote }
        defer { characters = characters[(end + 1)...] }
        return String(characters[..<end])
    }

    private static func doubleQuoted(_ characters: inout ArraySlice<Character>) throws(Failure) -> String {
        var text = ""
        while let character = characters.popFirst() {
            switch character {
            case "\"":
                return text
            case "\\":
                guard let next = characters.popFirst() else { throw .unterminatedQuote }
                switch next {
                case "$", "`", "\"", "\\": text.append(next)
                case "\n", "\r\n": break
                default: text += "\\\(next)"
                }
            default:
                text.append(character)
            }
        }
        throw .unterminatedQuote
    }

    /// Bash's `$'…'`, which Chromium writes for values holding a quote, `!` or a control character.
    private static func ansiCQuoted(_ characters: inout ArraySlice<Character>) throws(Failure) -> String {
        var text = ""
        while let character = characters.popFirst() {
            guard character != "'" else { return text }
            guard character == "\\" else {
                text.append(character)
                continue
            }
            guard let next = characters.popFirst() else { throw .unterminatedQuote }
            switch next {
            case "n": text.append("\n")
            case "r": text.append("\r")
            case "t": text.append("\t")
            case "a": text.append("\u{07}")
            case "b": text.append("\u{08}")
            case "e", "E": text.append("\u{1B}")
            case "f": text.append("\u{0C}")
            case "v": text.append("\u{0B}")
            case "x": text += scalar(&characters, digits: 2, radix: 16)
            case "u": text += scalar(&characters, digits: 4, radix: 16)
            case "U": text += scalar(&characters, digits: 8, radix: 16)
            case "0"..."7": text += scalar(&characters, digits: 2, radix: 8, first: next)
            default: text.append(next)  // \\ \' \" \? and anything bash keeps as is
            }
        }
        throw .unterminatedQuote
    }

    /// Up to `digits` digits of a character code; bash stops at the first character that is not one.
    private static func scalar(
        _ characters: inout ArraySlice<Character>, digits: Int, radix: Int, first: Character? = nil
    ) -> String {
        let taken = characters.prefix(digits).prefix { $0.isASCII && Int(String($0), radix: radix) != nil }
        characters.removeFirst(taken.count)
        let text = (first.map { String($0) } ?? "") + String(taken)
        guard let code = UInt32(text, radix: radix), let scalar = Unicode.Scalar(code) else { return "" }
        return String(Character(scalar))
    }

    /// Chromium's "Copy as cURL (cmd)": cmd.exe takes each `^` as "the next character as it is"
    /// (and `^` at a line end as a continuation), then the C runtime splits the rest into
    /// arguments, with `"` quoting and `\"` a literal quote.
    static func splitWindows(_ text: String) throws(Failure) -> [String] {
        var unescaped: [Character] = []
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            guard character == "^" else {
                unescaped.append(character)
                continue
            }
            guard let next = characters.popFirst() else { break }
            if next != "\n" && next != "\r\n" { unescaped.append(next) }
        }
        var words: [String] = []
        var word = ""
        var inWord = false
        var quoted = false
        var backslashes = 0
        for character in unescaped {
            if character == "\\" {
                backslashes += 1
                inWord = true
                continue
            }
            if character == "\"" {
                word += String(repeating: "\\", count: backslashes / 2)
                if backslashes % 2 == 1 { word.append("\"") } else { quoted.toggle() }
                backslashes = 0
                inWord = true
                continue
            }
            word += String(repeating: "\\", count: backslashes)
            backslashes = 0
            if !quoted, [" ", "\t", "\n", "\r", "\r\n"].contains(character) {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        guard !quoted else { throw .unterminatedQuote }
        word += String(repeating: "\\", count: backslashes)
        if inWord { words.append(word) }
        return words
    }
}
