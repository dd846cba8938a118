import ConfigFile
import Testing
@testable import BoardDescription

@Suite("ConfigParser")
struct ConfigParserTests {
    func parse(_ text: String) throws -> ConfigNode { try ConfigParser.parse(text, file: "t.yaml") }

    func parseError(_ text: String) -> BoardFileError? {
        do {
            _ = try ConfigParser.parse(text, file: "t.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func blockMappingWithScalarsAndLines() throws {
        let root = try parse("""
        # a comment
        model: Test board   # trailing comment
        count: 42
        hex: 0x48
        neg: -7
        ratio: 1.25
        on: true
        off: false
        nothing: null
        tilde: ~
        empty:
        """)
        #expect(root["model"]?.scalarText == "Test board")
        #expect(root["model"]?.line == 2)
        #expect(root["model"]?.column == 8)
        #expect(root["count"]?.int == 42)
        #expect(root["hex"]?.int == 0x48)
        #expect(root["neg"]?.int == -7)
        #expect(root["ratio"]?.double == 1.25)
        #expect(root["on"]?.bool == true)
        #expect(root["off"]?.bool == false)
        #expect(root["nothing"]?.isNull == true)
        #expect(root["tilde"]?.isNull == true)
        #expect(root["empty"]?.isNull == true)
        #expect(root.entries?.map(\.key) == ["model", "count", "hex", "neg", "ratio", "on", "off", "nothing", "tilde", "empty"])
        #expect(root.entries?[2].keyLine == 4)
    }

    @Test func nestedMappingsAndSequences() throws {
        let root = try parse("""
        connectors:
          - id: 1
            pilot:
              pwm: {name: c1.cp.pwm}
          - id: 2
        list:
        - a
        - b
        nested:
          - - x
            - y
          -
            k: v
        """)
        let connectors = try #require(root["connectors"]?.items)
        #expect(connectors.count == 2)
        #expect(connectors[0]["id"]?.int == 1)
        #expect(connectors[0].line == 2)
        #expect(connectors[0]["pilot"]?["pwm"]?["name"]?.scalarText == "c1.cp.pwm")
        #expect(connectors[0]["pilot"]?["pwm"]?["name"]?.line == 4)
        #expect(connectors[1]["id"]?.int == 2)
        #expect(connectors[1]["id"]?.line == 5)
        #expect(root["list"]?.items?.compactMap(\.scalarText) == ["a", "b"])
        let nested = try #require(root["nested"]?.items)
        #expect(nested[0].items?.compactMap(\.scalarText) == ["x", "y"])
        #expect(nested[1]["k"]?.scalarText == "v")
    }

    @Test func quotedScalarsKeepTheirText() throws {
        let root = try parse("""
        a: "0x48"
        b: 'it''s # not a comment'
        c: "tab\\there \\"q\\" \\u00e9"
        "quoted key": 1
        d: O'Brien
        e: a#b
        """)
        #expect(root["a"]?.scalarText == "0x48")
        #expect(root["a"]?.int == nil)
        #expect(root["b"]?.scalarText == "it's # not a comment")
        #expect(root["c"]?.scalarText == "tab\there \"q\" é")
        #expect(root["quoted key"]?.int == 1)
        #expect(root["d"]?.scalarText == "O'Brien")
        #expect(root["e"]?.scalarText == "a#b")
    }

    @Test func flowCollections() throws {
        let root = try parse("""
        sim: {address: 127.0.0.1:8089}
        reg: {function: 4, address: 0x0048, type: float32, scale: 1000}
        list: [1, 2, 0x10]
        mixed: [{a: 1}, [x, "y, z"], 'q']
        empty: {}
        none: []
        trailing: [1, 2,]
        """)
        #expect(root["sim"]?["address"]?.scalarText == "127.0.0.1:8089")
        #expect(root["reg"]?["address"]?.int == 0x48)
        #expect(root["reg"]?["scale"]?.int == 1000)
        #expect(root["reg"]?["type"]?.column == 43)
        #expect(root["list"]?.items?.compactMap(\.int) == [1, 2, 16])
        let mixed = try #require(root["mixed"]?.items)
        #expect(mixed[0]["a"]?.int == 1)
        #expect(mixed[1].items?.compactMap(\.scalarText) == ["x", "y, z"])
        #expect(mixed[2].scalarText == "q")
        #expect(root["empty"]?.entries?.isEmpty == true)
        #expect(root["none"]?.items?.isEmpty == true)
        #expect(root["trailing"]?.items?.count == 2)
    }

    @Test func documentStartAndCRLFAreAccepted() throws {
        let root = try parse("---\r\na: 1\r\nb: x\r\n")
        #expect(root["a"]?.int == 1)
        #expect(root["b"]?.scalarText == "x")
        #expect(root["b"]?.line == 3)
    }

    @Test func byteOrderMarkAndApostrophesBeforeComments() throws {
        let root = try parse("\u{FEFF}model: Bob 's board # comment\nb: 1\n")
        #expect(root["model"]?.scalarText == "Bob 's board")
        #expect(root["b"]?.int == 1)
    }

    @Test func emptyDocumentIsNull() throws {
        #expect(try parse("# only a comment\n\n").isNull)
    }

    @Test(arguments: [
        ("a: 1\n\tb: 2\n", 2, "tab"),
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first given on line 1)"),
        ("a: {x: 1, x: 2}\n", 1, "duplicate key 'x'"),
        ("a: &anchor 1\n", 1, "anchors (&) are not supported"),
        ("a: *anchor\n", 1, "aliases (*) are not supported"),
        ("a: !!str 1\n", 1, "tags (!) are not supported"),
        ("a: |\n  text\n", 1, "block scalars"),
        ("a: 1\n---\nb: 2\n", 2, "several documents"),
        ("a: 1\n...\n", 2, "'...' is not supported"),
        ("a: {x: 1\n", 1, "not closed"),
        ("a: [1, 2\n", 1, "not closed"),
        ("a: \"open\n", 1, "unterminated"),
        ("a: 1\n   b: 2\n", 2, "unexpected indentation"),
        ("a:\n  b: 1\n c: 2\n", 3, "unexpected indentation"),
        ("a: b: c\n", 1, "quote the value"),
        ("a:\n  - 1\n  b: 2\n", 3, "unexpected indentation"),
        ("a:\n- 1\nb: 2\n- 3\n", 4, "'key: value' entry was expected"),
        ("a: [1] x\n", 1, "unexpected"),
        ("? complex\n", 1, "not supported"),
        ("%YAML 1.2\na: 1\n", 1, "directives"),
        ("  a: 1\n", 1, "column 1"),
    ] as [(String, Int, String)])
    func errorsNameTheLine(text: String, line: Int, fragment: String) throws {
        let error = try #require(parseError(text))
        #expect(error.file == "t.yaml")
        #expect(error.line == line)
        #expect(error.description.hasPrefix("t.yaml:\(line): "))
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test func numbersAreTypedOnlyWhenPlain() throws {
        let root = try parse("a: 0b101\nb: 0o17\nc: 1e3\nd: abc\ne: '12'\nf: -0x10\n")
        #expect(root["a"]?.int == 5)
        #expect(root["b"]?.int == 15)
        #expect(root["c"]?.double == 1000)
        #expect(root["c"]?.int == nil)
        #expect(root["d"]?.double == nil)
        #expect(root["e"]?.int == nil)
        #expect(root["f"]?.int == -16)
        #expect(root["d"]?.kindDescription == "\"abc\"")
        #expect(root["e"]?.kindDescription == "the string \"12\"")
    }
}

/// Found by fuzzing the board loader: `[[[[…` overflowed the stack. Nesting is bounded, block
/// and flow levels together, and a file past the bound is an error naming its line.
@Suite struct ConfigNestingTests {
    @Test func deeplyNestedFlowCollectionsAreAnErrorNotACrash() {
        for text in ["a: " + String(repeating: "[", count: 5_000) + "\n",
                     "a: " + String(repeating: "{b: ", count: 5_000) + "1" + String(repeating: "}", count: 5_000) + "\n",
                     "a:\n  " + String(repeating: "- ", count: 5_000) + "x\n"] {
            #expect(throws: ConfigFileError.self) { _ = try ConfigParser.parse(text, file: "deep.yaml") }
            do { _ = try ConfigParser.parse(text, file: "deep.yaml") } catch {
                #expect(error.message.contains("nested deeper than 64 levels") && error.file == "deep.yaml", "\(error)")
            }
        }
    }

    @Test func sixtyLevelsAreStillFine() throws {
        let text = "a: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60) + "\n"
        _ = try ConfigParser.parse(text, file: "ok.yaml")
    }
}
