import XCTest
@testable import GlassboxFigures
final class PlaceholderFiguresTests: XCTestCase { func testNothing() {} }
