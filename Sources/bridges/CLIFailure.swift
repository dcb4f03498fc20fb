import ArgumentParser
import BridgesClient

/// A failure the tool explains in one sentence and reports with its own exit code.
struct CLIFailure: Error, CustomStringConvertible {
    enum Code: Int32 {
        case failed = 1
        case usage = 2
        case notFound = 3
        case authentication = 4
        case unreachable = 5
        case interrupted = 130
    }

    var description: String
    var code: Code

    init(_ description: String, code: Code = .failed) {
        self.description = description
        self.code = code
    }

    init(_ error: BridgesClientError) {
        switch error {
        case .api(let status):
            switch status.kind {
            case .authentication:
                self.init("The server refused the access token (\(status.message)).", code: .authentication)
            case .notFound:
                self.init(status.message, code: .notFound)
            default:
                self.init(status.message)
            }
        case .connection(let failure):
            let hint = "Check --base-url or BEEPER_BASE_URL."
            let message =
                switch failure {
                case .refused: "Cannot reach the server (connection refused). Is it running? \(hint)"
                case .closed: "The server closed the connection before it answered."
                case .tls: "Cannot reach the server: the TLS handshake failed. Is it http rather than https? \(hint)"
                case .connectTimedOut, .timedOut: "The server did not answer in time."
                case .other(let reason): "Cannot reach the server (\(reason)). \(hint)"
                }
            self.init(message, code: .unreachable)
        case .timeout:
            self.init("The server did not answer in time.", code: .unreachable)
        default:
            self.init(error.description)
        }
    }
}

/// Runs a client command body, turning failures into a message on standard error and an exit code.
func runClient(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        Terminal.error(Terminal.red("error: ") + failure.description)
        throw ExitCode(failure.code.rawValue)
    } catch let error as BridgesClientError {
        let failure = CLIFailure(error)
        Terminal.error(Terminal.red("error: ") + failure.description)
        throw ExitCode(failure.code.rawValue)
    }
}
