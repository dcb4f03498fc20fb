import BridgesAPI
import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error a request can raise into the one error body of the contract,
/// `{message, code, details?}`. Client mistakes become 4xx with a clear message; only a fault
/// of the server itself is a 500, and its cause goes to the log, not to the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The router says 404 for a known path with another method too; tell them apart.
            guard let allowed = routes.methods(for: request.uri.path), !allowed.contains(request.method.rawValue) else {
                return APIFailure(error).response()
            }
            var failure = APIFailure(
                status: .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method.rawValue).")
            failure.headers[.allow] = allowed.joined(separator: ", ")
            return failure.response()
        } catch {
            let body = APIFailure(error)
            if body.status == .internalServerError {
                // The description of an OpenAPI server error embeds the request body, which can
                // hold a password: log only the root cause's type.
                context.logger.error(
                    "request failed", metadata: ["error": "\(type(of: APIFailure.rootCause(of: error)))", "path": "\(request.uri.path)"])
            }
            return body.response()
        }
    }
}

/// One HTTP error answer: a status and the contract's error body.
struct APIFailure {
    var status: HTTPResponse.Status
    var body: Components.Schemas.ErrorResponse
    var headers: HTTPFields = [:]
    /// Sent as `x-should-retry`, which the official SDKs follow instead of retrying every 409
    /// and 5xx: only where the same request can pass later. Failures that are not the domain's
    /// own are judged by status.
    var shouldRetry: Bool

    init(status: HTTPResponse.Status, code: String, message: String, issues: [ValidationIssue] = [], details: [String: JSONValue]? = nil) {
        self.status = status
        var errorDetails: Components.Schemas.ErrorDetails?
        if !issues.isEmpty || details != nil {
            var container = OpenAPIObjectContainer()
            if let details, let converted: OpenAPIObjectContainer = try? Wire.convert(details) { container = converted }
            errorDetails = Components.Schemas.ErrorDetails(
                issues: issues.isEmpty ? nil : issues.map(Components.Schemas.ValidationIssue.init), additionalProperties: container)
        }
        body = Components.Schemas.ErrorResponse(message: message, code: code, details: errorDetails)
        shouldRetry = status == .tooManyRequests || status == .serviceUnavailable || status == .gatewayTimeout
    }

    init(_ error: any Error) {
        let root = Self.rootCause(of: error)
        switch root {
        case let domain as BridgesError:
            self.init(
                status: domain.kind.httpStatus, code: domain.code, message: domain.message, issues: domain.issues,
                details: domain.details)
            if domain.kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
            if let seconds = domain.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
            shouldRetry = domain.isTransient
        case let decoding as DecodingError:
            self = Self.decodingFailure(decoding)
        case let http as HTTPError:
            self.init(status: http.status, code: Self.code(for: http.status), message: http.body ?? Self.message(for: http.status))
            if http.status == .methodNotAllowed { self.headers = http.headers }
        case let http as any HTTPResponseError where http.status != .internalServerError:
            // Hummingbird's and NIO's own refusals, such as a body over the size limit.
            self.init(status: http.status, code: Self.code(for: http.status), message: Self.message(for: http.status))
        default:
            if let server = error as? ServerError, server.httpStatus != .internalServerError {
                self.init(
                    status: server.httpStatus, code: Self.code(for: server.httpStatus),
                    message: Self.runtimeMessage(server))
            } else {
                self.init(status: .internalServerError, code: "internal_error", message: "The server failed to handle this request.")
            }
        }
    }

    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        if let name = HTTPField.Name.shouldRetry { headers[name] = shouldRetry ? "true" : "false" }
        let data = (try? JSONEncoder.api.encode(body)) ?? Data(#"{"message":"error","code":"internal_error"}"#.utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func rootCause(of error: any Error) -> any Error {
        var current = error
        while true {
            if let server = current as? ServerError {
                current = server.underlyingError
            } else if let client = current as? ClientError {
                current = client.underlyingError
            } else {
                return current
            }
        }
    }

    private static func decodingFailure(_ error: DecodingError) -> APIFailure {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> [ValidationIssue.PathElement] {
            [.key("body")] + (codingPath + [last].compactMap { $0 }).map { key in
                key.intValue.map(ValidationIssue.PathElement.index) ?? .key(key.stringValue)
            }
        }
        let issue: ValidationIssue
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return APIFailure(status: .badRequest, code: "invalid_json", message: "The request body is not valid JSON.")
        case .dataCorrupted(let context):
            let field = context.codingPath.last?.stringValue ?? "value"
            issue = ValidationIssue(
                code: "invalid_value", message: "'\(field)' has a value that is not allowed.", path: path(context.codingPath))
        case .keyNotFound(let key, let context):
            issue = ValidationIssue(
                code: "required", message: "'\(key.stringValue)' is required.", path: path(context.codingPath, key))
        case .typeMismatch(let type, let context):
            issue = ValidationIssue(
                code: "invalid_type", message: "'\(context.codingPath.last?.stringValue ?? "body")' must be \(typeName(type)).",
                path: path(context.codingPath))
        case .valueNotFound(let type, let context):
            issue = ValidationIssue(
                code: "invalid_type", message: "'\(context.codingPath.last?.stringValue ?? "body")' must be \(typeName(type)), not null.",
                path: path(context.codingPath))
        @unknown default:
            return APIFailure(status: .badRequest, code: "invalid_body", message: "The request body could not be read.")
        }
        return APIFailure(status: .unprocessableContent, code: "validation_failed", message: issue.message, issues: [issue])
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }

    private static func runtimeMessage(_ error: ServerError) -> String {
        switch error.httpStatus {
        case .unsupportedMediaType: "The request body must be JSON, sent with Content-Type: application/json."
        case .badRequest: "The request is malformed: \(error.causeDescription)."
        default: message(for: error.httpStatus)
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "bad_request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .conflict: "conflict"
        case .contentTooLarge: "payload_too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .unprocessableContent: "validation_failed"
        case .tooManyRequests: "rate_limited"
        case .badGateway: "bridge_unreachable"
        default: status.code >= 500 ? "internal_error" : "bad_request"
        }
    }

    static func message(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "No such route."
        case .methodNotAllowed: "This route does not take that method."
        case .contentTooLarge: "The request body is too large."
        default: status.reasonPhrase.isEmpty ? "The request failed." : "\(status.reasonPhrase)."
        }
    }
}

extension BridgesError.Kind {
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .tooManyRequests: .tooManyRequests
        case .payloadTooLarge: .contentTooLarge
        case .upstream: .badGateway
        case .internalError: .internalServerError
        }
    }
}

extension Components.Schemas.ValidationIssue {
    init(_ issue: ValidationIssue) {
        self.init(
            code: issue.code, message: issue.message,
            path: issue.path.map { element in
                switch element {
                case .key(let key): .case1(key)
                case .index(let index): .case2(index)
                }
            })
    }
}

extension JSONEncoder {
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension HTTPField.Name {
    static let shouldRetry = HTTPField.Name("x-should-retry")
}
