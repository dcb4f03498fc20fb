import BridgesClient
import Testing

@Suite(.timeLimit(.minutes(2))) struct CurlCommandTests {
    /// As Chromium's developer tools write it (Network → Copy → Copy as cURL (bash)).
    static let chromium = #"""
        curl 'http://127.0.0.1:23373/demo/cookies/signed-in' \
          -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' \
          -H 'Accept-Language: en-US,en;q=0.9' \
          -H 'Connection: keep-alive' \
          -b 'demo_session=alice.5f2c; theme=dark' \
          -H 'X-Demo-CSRF: csrf-7b1e' \
          -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' \
          --compressed
        """#

    @Test func readsChromiumsCommand() throws {
        let command = try CurlCommand(parsing: Self.chromium)
        #expect(command.url == "http://127.0.0.1:23373/demo/cookies/signed-in")
        #expect(command.cookie("demo_session") == "alice.5f2c")
        #expect(command.cookie("theme") == "dark")
        #expect(command.header("x-demo-csrf") == "csrf-7b1e")
        #expect(command.header("Accept-Language") == "en-US,en;q=0.9")
        #expect(command.header("user-agent")?.hasSuffix("Safari/537.36") == true)
        #expect(command.headers.count == 5)
    }

    @Test func readsCookiesFromACookieHeader() throws {
        let command = try CurlCommand(parsing: "curl 'https://example.com/' -H 'cookie: a=1; b=two=2' -H 'Cookie:c=3'")
        #expect(command.cookies.map(\.name) == ["a", "b", "c"])
        #expect(command.cookie("b") == "two=2")
        #expect(command.header("cookie") == nil)
    }

    @Test func readsAnsiCQuotingAsChromiumWritesIt() throws {
        let command = try CurlCommand(
            parsing: #"curl 'https://example.com/' -H $'x-note: caf\u00e9 \'quoted\' \x41\101!' --data-raw $'{"a":"b\\n"}'"#)
        #expect(command.header("x-note") == "café 'quoted' AA!")
        #expect(command.url == "https://example.com/")
    }

    @Test func readsDoubleQuotesAndEscapesWithoutExpandingAnything() throws {
        let command = try CurlCommand(parsing: #"curl "https://example.com/" -H "X-A: \"q\" \$HOME $PATH" -H X-B:\ two\ words"#)
        #expect(command.header("X-A") == #""q" $HOME $PATH"#)
        #expect(command.header("X-B") == "two words")
    }

    @Test func readsChromiumsCmdForm() throws {
        let command = try CurlCommand(
            parsing: """
                curl ^"https://example.com/api?a=1^&b=2^" ^
                  -H ^"accept: */*^" ^
                  -b ^"session=abc; theme=dark^" ^
                  -H ^"x-json: ^{^\\^"k^\\^":1^}^" ^
                  -H ^"x-percent: 100^%^PATH^%^" ^
                  --compressed
                """)
        #expect(command.url == "https://example.com/api?a=1&b=2")
        #expect(command.cookie("session") == "abc")
        #expect(command.header("x-json") == #"{"k":1}"#)
        #expect(command.header("x-percent") == "100%PATH%", "cmd's escape keeps %PATH% from being expanded")
        #expect(command.header("accept") == "*/*")
    }

    @Test func joinsLinesEndedWithABackslashEvenWithWindowsLineEnds() throws {
        let command = try CurlCommand(parsing: "curl 'https://example.com/' \\\r\n  -b 'a=1' \\\r\n  --compressed\r\n")
        #expect(command.cookie("a") == "1")
        #expect(command.url == "https://example.com/")
    }

    @Test func optionValuesAreNotTakenForTheURL() throws {
        let command = try CurlCommand(parsing: "$ curl -X 'POST' -HX-Attached:\\ yes -b cookies.txt --data-raw 'x=1' 'https://example.com/api'")
        #expect(command.url == "https://example.com/api")
        #expect(command.header("x-attached") == "yes")
        #expect(command.cookies.isEmpty, "a -b without = names a cookie file")
    }

    @Test(arguments: [
        ("curl 'https://example.com/ -H 'a: b'", CurlCommand.ParseError.unterminatedQuote),
        ("wget https://example.com/", .notCurl),
        ("", .notCurl),
        ("curl 'https://example.com/' -H", .missingValue(option: "-H")),
    ])
    func refusesWhatIsNotACompleteCurlCommand(text: String, expected: CurlCommand.ParseError) {
        #expect(throws: expected) { try CurlCommand(parsing: text) }
    }

    @Test func fillsACookiesStepAndNamesWhatIsMissing() throws {
        let fields = [
            CookieField(id: "session", name: "demo_session", _type: .cookie),
            CookieField(id: "csrf", name: "X-Demo-CSRF", _type: .header),
            CookieField(id: "token", name: "demo_token", _type: .localStorage),
            CookieField(id: "theme"),
        ]
        let (found, missing) = try CurlCommand(parsing: Self.chromium).values(for: fields)
        #expect(found == ["session": "alice.5f2c", "csrf": "csrf-7b1e", "theme": "dark"])
        #expect(missing.map(\.id) == ["token"])
    }
}
