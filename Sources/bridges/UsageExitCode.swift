import ArgumentParser
import Foundation

extension Bridges {
    /// The argument parser's own `main`, except that bad usage exits 2, as documented and as most
    /// Unix tools do, instead of its 64 (EX_USAGE).
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(CLIFailure.Code.usage.rawValue))
        }
    }
}
