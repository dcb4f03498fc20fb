import BridgesCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The page's templates and static files, read once from the package's resources.
struct PageRenderer: Sendable {
    struct Asset: Sendable {
        var contentType: String
        var bytes: [UInt8]
    }

    /// A template the package should hold is missing: the package was built wrong.
    struct MissingTemplate: Error {
        var name: String
    }

    struct MissingResources: Error {}

    private let library: MustacheLibrary
    let assets: [String: Asset]

    static func load() async throws -> PageRenderer {
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let assets = Bundle.module.url(forResource: "Assets", withExtension: nil)
        else { throw MissingResources() }
        let library = try await MustacheLibrary(directory: templates.path)
        var files: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: assets.path) {
            let type: String
            switch (name as NSString).pathExtension {
            case "css": type = "text/css; charset=utf-8"
            case "js": type = "text/javascript; charset=utf-8"
            case "svg": type = "image/svg+xml"
            default: continue
            }
            let data = try Data(contentsOf: assets.appendingPathComponent(name))
            files[name] = Asset(contentType: type, bytes: Array(data))
        }
        return PageRenderer(library: library, assets: files)
    }

    func render(_ template: String, _ model: Any) throws -> String {
        guard let text = library.render(model, withTemplate: template) else { throw MissingTemplate(name: template) }
        return text
    }

    /// A whole page: `template` rendered into the layout.
    func page(_ template: String, _ model: Any, layout: LayoutView, status: HTTPResponse.Status = .ok) throws -> Response {
        var layout = layout
        layout.content = try render(template, model)
        return Self.html(try render("layout", layout), status: status)
    }

    /// A part of a page, for the live script to put in place.
    func fragment(_ template: String, _ model: Any) throws -> Response {
        Self.html(try render(template, model), status: .ok)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// What the layout around every page shows.
struct LayoutView {
    var title: String
    var content = ""
    /// The signed-in user, shown with the sign-out button.
    var user: String?
    var csrf: String?
    var live: LiveView?
    var flash: FlashView?

    init(title: String, session: PageSession? = nil, flash: Flash? = nil, live: LiveView? = nil) {
        self.title = title
        self.user = session?.identity.user.rawValue
        self.csrf = session?.csrfToken
        self.live = live
        self.flash = flash.map(FlashView.init)
    }
}

/// Tells the live script what this page follows on `/v1/ws` and where to fetch its changing part.
struct LiveView {
    var mode: String
    var fragment: String
    var sessionID: String?
    var bridgeID: String?
}

struct FlashView {
    var kind: String
    var role: String
    var text: String

    init(_ flash: Flash) {
        kind = flash.kind.rawValue
        role = flash.kind == .error ? "alert" : "status"
        text = flash.text
    }
}

/// A page that only says something: an error, a refusal, with ways forward.
struct MessageView {
    struct Link {
        var href: String
        var label: String
    }
    var title: String
    var text: String
    var links: [Link]
}
