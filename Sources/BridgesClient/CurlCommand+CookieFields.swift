import BridgesAPI
import CurlParsing

public typealias CookieField = Components.Schemas.CookieField

extension CurlCommand {
    /// Fills a cookies step's fields from this request: a `cookie` field from its cookies, a
    /// `header` field from its headers, each by the field's `name` (its `id` when it has none).
    /// A `local_storage` field is never in a request, so it is always among the missing.
    public func values(for fields: [CookieField]) -> (found: [String: String], missing: [CookieField]) {
        var found: [String: String] = [:]
        var missing: [CookieField] = []
        for field in fields {
            let name = field.name ?? field.id
            let value: String? =
                switch field._type {
                case .cookie, nil: cookie(name)
                case .header: header(name)
                case .localStorage: nil
                }
            if let value { found[field.id] = value } else { missing.append(field) }
        }
        return (found, missing)
    }
}
