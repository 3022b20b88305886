import Foundation
import HealerRules

enum FixtureDirectory {
    /// The absolute path of fixture directory `name`'s `healer.yaml`.
    static func config(_ name: String) -> String {
        Bundle.module.resourcePath! + "/Fixtures/\(name)/healer.yaml"
    }

    /// The errors loading the configuration at `path` gives, as printed.
    static func errors(loading path: String) -> [String] {
        do {
            _ = try ConfigurationLoader.load(path: path)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// The errors loading fixture `name` gives, with the fixture directory stripped from paths.
    static func errors(_ name: String) -> [String] {
        do {
            _ = try ConfigurationLoader.load(path: config(name))
            return []
        } catch {
            let prefix = Bundle.module.resourcePath! + "/Fixtures/\(name)/"
            return error.errors.map { $0.description.replacingOccurrences(of: prefix, with: "") }
        }
    }
}
