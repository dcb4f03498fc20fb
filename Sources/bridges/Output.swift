import ArgumentParser
import Foundation

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table, for scripts.")
    var json = false
}

/// Pretty-printed for a person reading a script's output, or `compact`: one object a line.
func printJSON(_ value: some Encodable, compact: Bool = false) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // As the server writes them (an event's `ts`), not as seconds since 2001.
    encoder.dateEncodingStrategy = .iso8601
    if !compact { encoder.outputFormatting.insert(.prettyPrinted) }
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
