import Foundation

/// The checks every submitted step passes before its values reach a connector, so that a
/// connector never sees a required field left empty or a value of the wrong format.
enum StepValidation {
    static func check(_ submission: StepSubmission, against step: Step) throws {
        var issues: [ValidationIssue] = []
        func check(id: String, optional: Bool, pattern: String?) {
            let path: [ValidationIssue.PathElement] = [.key("body"), .key("fields"), .key(id)]
            let value = submission.fields[id] ?? ""
            if value.isEmpty {
                if !optional {
                    issues.append(ValidationIssue(code: "required", message: "Field '\(id)' is required.", path: path))
                }
                return
            }
            if let pattern, value.range(of: pattern, options: .regularExpression) == nil {
                issues.append(
                    ValidationIssue(
                        code: "invalid_format", message: "Field '\(id)' does not have the expected format.", path: path))
            }
        }
        switch step.content {
        case .userInput(let fields, _):
            for field in fields { check(id: field.id, optional: field.optional, pattern: field.pattern) }
        case .cookies(let prompt):
            for field in prompt.fields { check(id: field.id, optional: field.optional, pattern: nil) }
        case .display, .complete:
            break
        }
        if !issues.isEmpty { throw BridgesError.validation(issues) }
    }
}
