import XCTest
@testable import GlassboxData
final class PlaceholderDataTests: XCTestCase { func testNothing() {} }
