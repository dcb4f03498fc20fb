import ArgumentParser
import BridgesClient
import Foundation

/// How `connect` is given values up front instead of being asked for them.
struct AnswerOptions: ParsableArguments {
    @Option(
        name: .customLong("field"),
        help: ArgumentHelp("Answer the input field with this ID (repeatable).", valueName: "id=value"))
    var fields: [Assignment] = []

    @Option(
        name: .customLong("cookie"),
        help: ArgumentHelp("Answer a cookies step's field, by its ID or name (repeatable).", valueName: "id=value"))
    var cookies: [Assignment] = []

    @Option(
        help: ArgumentHelp(
            "A request copied with the browser's \"Copy as cURL\", to fill a cookies step (- for standard input).",
            valueName: "file"))
    var curl: String?

    @Flag(help: "Never prompt: a value that no option gives ends the command with exit code 2.")
    var noInput = false

    /// The command given by `--curl`, read before the session starts so a bad paste costs nothing.
    func curlCommand() throws -> CurlCommand? {
        guard let curl else { return nil }
        let text: String
        if curl == "-" {
            if isatty(STDIN_FILENO) == 1 {
                Terminal.error("Paste the command copied with \"Copy as cURL\", then press Ctrl-D on a line of its own.")
            }
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            do {
                text = try String(contentsOfFile: curl, encoding: .utf8)
            } catch {
                throw CLIFailure("Cannot read --curl \(curl): \(error.localizedDescription)", code: .usage)
            }
        }
        do {
            return try CurlCommand(parsing: text)
        } catch {
            throw CLIFailure("--curl \(curl): \(error)", code: .usage)
        }
    }
}

/// `id=value`, as `--field` and `--cookie` take it. The value may itself hold `=`.
struct Assignment: ExpressibleByArgument, Sendable {
    var id: String
    var value: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        id = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
    }
}

extension [Assignment] {
    /// The last value given for each ID, as a later option overrides an earlier one.
    var byID: [String: String] {
        Dictionary(map { ($0.id, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}
