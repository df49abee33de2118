import XCTest
@testable import GlassboxCore

final class IndexListTests: XCTestCase {
    func testRangesAndLists() throws {
        XCTAssertEqual(try IndexList.parse("0-3,8", name: "--units", expected: "x"), [0, 1, 2, 3, 8])
        XCTAssertEqual(try IndexList.parse(" 7 ", name: "--units", expected: "x"), [7])
        XCTAssertEqual(try IndexList.parse("3,3", name: "--units", expected: "x"), [3, 3])
    }

    func testBadListsNameTheOption() {
        for text in ["", "3-1", "-2", "1-2-3", "a", "1,", "0-100000"] {
            XCTAssertThrowsError(try IndexList.parse(text, name: "--units", expected: "indices"), text) { e in
                XCTAssertEqual("\(e)", "--units: expected indices, found '\(text)'")
            }
        }
        XCTAssertThrowsError(try IndexList.parse("1,0-2", name: "--seeds", expected: "seeds", distinct: true)) { e in
            XCTAssertEqual("\(e)", "--seeds: expected each number once, found '1,0-2'")
        }
    }
}
