import BridgesCore
import CurlParsing
import Foundation
import HTTPTypes
import Hummingbird

/// A running login session: its page, the answers to its steps, the cURL paste of a cookies
/// step, and cancelling it.
extension WebPage {
    func sessionPage(_ request: Request, bridgeID: String, sessionID: String) async throws -> Response {
        try await signedIn(request) { session in
            let view = try await actions.session(bridgeID: bridgeID, id: sessionID, for: session.identity.user)
            let step = StepView(view, csrf: session.csrfToken)
            if request.uri.queryParameters["part"] == "step" { return try renderer.fragment("step", step) }
            return try await renderSession(step, sessionID: sessionID, bridgeID: bridgeID, session: session, status: .ok)
        }
    }

    func submitStep(_ request: Request, bridgeID: String, sessionID: String, stepID: String) async throws -> Response {
        try await signedInForm(request) { session, form in
            let user = session.identity.user
            let back = Self.sessionPath(bridgeID: bridgeID, sessionID: sessionID)
            let view = try await actions.session(bridgeID: bridgeID, id: sessionID, for: user)
            guard let current = view.session.currentStep, current.id == stepID, !view.session.status.isTerminal else {
                await sessions.setFlash(Self.movedOn, for: session.id)
                return Self.redirect(to: back)
            }
            let submission: StepSubmission
            switch current.step.content {
            case .userInput(let fields, _):
                submission = StepSubmission(
                    type: .userInput, fields: Self.answers(form.values(prefixed: "field."), for: fields.map(\.id)))
            case .cookies(let prompt):
                submission = StepSubmission(
                    type: .cookies, fields: Self.answers(form.values(prefixed: "cookie."), for: prompt.fields.map(\.id)))
            case .display, .complete:
                return Self.redirect(to: back)
            }
            do {
                _ = try await actions.submit(bridgeID: bridgeID, sessionID: sessionID, stepID: stepID, submission, for: user)
            } catch let error as BridgesError where error.kind == .unprocessable {
                let state = StepFormState(
                    values: submission.fields, errors: Self.fieldErrors(error.issues, step: current.step),
                    summary: "Some answers need another look; see the messages below.")
                let refreshed = try await actions.session(bridgeID: bridgeID, id: sessionID, for: user)
                return try await renderSession(
                    StepView(refreshed, csrf: session.csrfToken, form: state), sessionID: sessionID, bridgeID: bridgeID,
                    session: session, status: .unprocessableContent)
            } catch let error as BridgesError where error.kind == .conflict {
                await sessions.setFlash(Self.movedOn, for: session.id)
            } catch let error as BridgesError where error.kind == .upstream {
                // The session ended failed, and its page says why.
            }
            return Self.redirect(to: back)
        }
    }

    /// Reads a command copied with the browser's "Copy as cURL" and fills the cookies step's
    /// boxes with what it holds; the person checks them and sends the step.
    func fillFromCurl(_ request: Request, bridgeID: String, sessionID: String) async throws -> Response {
        try await signedInForm(request) { session, form in
            let view = try await actions.session(bridgeID: bridgeID, id: sessionID, for: session.identity.user)
            guard let current = view.session.currentStep, case .cookies(let prompt) = current.step.content else {
                return Self.redirect(to: Self.sessionPath(bridgeID: bridgeID, sessionID: sessionID))
            }
            var state = StepFormState(values: Self.answers(form.values(prefixed: "cookie."), for: prompt.fields.map(\.id)))
            let text = (form["curl"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty {
                state.curlError = "Paste a cURL command into the box first."
            } else {
                do {
                    let command = try CurlCommand(parsing: text)
                    var found: [String] = []
                    var missing: [String] = []
                    for field in prompt.fields {
                        if let value = Self.value(of: field, in: command) {
                            state.values[field.id] = value
                            found.append(Self.describe(field))
                        } else if state.values[field.id] == nil {
                            missing.append(Self.describe(field))
                        }
                    }
                    state.curlReport =
                        (found.isEmpty
                            ? "The cURL command holds none of the values this step needs."
                            : "Filled in from the cURL command: \(found.joined(separator: ", ")).")
                        + (missing.isEmpty ? "" : " Still to fill in: \(missing.joined(separator: ", ")).")
                } catch let error as CurlCommand.ParseError {
                    state.curlError = "That is not a whole cURL command: \(error.description)."
                    state.curlText = text
                } catch {
                    state.curlError = "That is not a whole cURL command."
                    state.curlText = text
                }
            }
            return try await renderSession(
                StepView(view, csrf: session.csrfToken, form: state), sessionID: sessionID, bridgeID: bridgeID, session: session,
                status: state.curlError == nil ? .ok : .unprocessableContent)
        }
    }

    func cancelSession(_ request: Request, bridgeID: String, sessionID: String) async throws -> Response {
        try await signedInForm(request) { session, _ in
            do {
                _ = try await actions.cancelSession(bridgeID: bridgeID, id: sessionID, for: session.identity.user)
            } catch let error as BridgesError where error.kind == .conflict {
                await sessions.setFlash(Flash(kind: .info, text: "This sign-in had already ended."), for: session.id)
            }
            return Self.redirect(to: Self.sessionPath(bridgeID: bridgeID, sessionID: sessionID))
        }
    }

    private func renderSession(
        _ step: StepView, sessionID: String, bridgeID: String, session: PageSession, status: HTTPResponse.Status
    ) async throws -> Response {
        let layout = LayoutView(
            title: step.heading, session: session, flash: await sessions.takeFlash(for: session.id),
            live: LiveView(mode: "session", fragment: "\(step.base)?part=step", sessionID: sessionID, bridgeID: bridgeID))
        return try renderer.page("session", step, layout: layout, status: status)
    }

    static func sessionPath(bridgeID: String, sessionID: String) -> String {
        "/connect/\(PagePath.segment(bridgeID))/\(PagePath.segment(sessionID))"
    }

    private static let movedOn = Flash(kind: .info, text: "That step had already moved on; this is where the sign-in is now.")

    /// The non-empty answers to the fields a step asks for; anything else posted is ignored.
    private static func answers(_ posted: [String: String], for ids: [String]) -> [String: String] {
        var answers: [String: String] = [:]
        for id in ids {
            if let value = posted[id]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty { answers[id] = value }
        }
        return answers
    }

    /// Validation issues (`body.fields.<id>`) as a message per field, naming the field by its label.
    private static func fieldErrors(_ issues: [ValidationIssue], step: Step) -> [String: String] {
        var labels: [String: String] = [:]
        switch step.content {
        case .userInput(let fields, _): for field in fields { labels[field.id] = FieldTypes.label(for: field) }
        case .cookies(let prompt): for field in prompt.fields { labels[field.id] = describe(field) }
        default: break
        }
        var errors: [String: String] = [:]
        for issue in issues {
            guard issue.path.count == 3, case .key(let id) = issue.path[2] else { continue }
            let label = labels[id] ?? id
            errors[id] =
                switch issue.code {
                case "required": "Fill in \(label)."
                case "invalid_format": "\(label) does not look right. Check it and try again."
                default: issue.message
                }
        }
        return errors
    }

    private static func value(of field: CookieField, in command: CurlCommand) -> String? {
        let name = field.name ?? field.id
        switch field.source {
        case .header: return command.header(name)
        case .localStorage: return nil
        case .cookie, nil: return command.cookie(name)
        }
    }

    private static func describe(_ field: CookieField) -> String {
        let name = field.name ?? field.id
        switch field.source {
        case .header: return "request header \(name)"
        case .localStorage: return "local storage entry \(name)"
        case .cookie, nil: return "cookie \(name)"
        }
    }
}
