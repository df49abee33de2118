import XCTest
@testable import GlassboxCore
final class PlaceholderCoreTests: XCTestCase { func testNothing() {} }
