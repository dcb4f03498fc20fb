import ArgumentParser
import Foundation

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table, for scripts.")
    var json = false
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Terminal.line(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func colored(status: String) -> String {
    switch status {
    case "available", "connected": Terminal.green(status)
    case "temporarily_unavailable", "reconnect_required", "needs_login", "attention_required", "disconnected":
        Terminal.yellow(status)
    case "disabled", "logged_out", "limit_reached", "connection_required": Terminal.red(status)
    default: status
    }
}
