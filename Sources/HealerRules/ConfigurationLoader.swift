import Foundation
public import HealerCore
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// Loads `healer.yaml` and the rule files it names, and validates everything together.
///
/// All problems are collected and reported at once, each with its file, line and field; nothing is returned
/// half-loaded. Rule file patterns are relative to the configuration file's directory.
public enum ConfigurationLoader {
    /// Loads the configuration at `path`.
    ///
    /// - Throws: ``ConfigurationErrors`` listing every problem.
    public static func load(path: String) throws(ConfigurationErrors) -> HealerConfiguration {
        let diagnostics = Diagnostics()
        guard let text = read(path) else {
            throw ConfigurationErrors([
                ConfigurationError(location: SourceLocation(file: path), field: "", message: "cannot read the file: \(lastError(path))")
            ])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try load(text: text, file: path, directory: directory.isEmpty ? "." : directory, diagnostics: diagnostics)
    }

    /// Loads a configuration from `text`; `file` names it in errors and `directory` resolves relative paths.
    public static func load(text: String, file: String, directory: String) throws(ConfigurationErrors) -> HealerConfiguration {
        try load(text: text, file: file, directory: directory, diagnostics: Diagnostics())
    }

    private static func load(text: String, file: String, directory: String, diagnostics: Diagnostics) throws(ConfigurationErrors)
        -> HealerConfiguration
    {
        guard let node = composeYAML(text, file: file, diagnostics: diagnostics) else {
            if diagnostics.errors.isEmpty { diagnostics.report(SourceLocation(file: file), "", "the file is empty") }
            throw ConfigurationErrors(diagnostics.errors)
        }
        let parser = ConfigurationParser(diagnostics: diagnostics, directory: directory) { path in
            let resolved = resolve(path, in: directory)
            return read(resolved).map { .success($0) } ?? .failure(ConfigurationError.Reason(text: lastError(resolved)))
        }
        var configuration = parser.parse(YAMLField(node: node, path: "", file: file, diagnostics: diagnostics))
        let root = YAMLField(node: node, path: "", file: file, diagnostics: diagnostics)
        let rulesNode = node.mapping?.first { $0.key.string == "rules" }?.value
        let rulesField = rulesNode.map { YAMLField(node: $0, path: "rules", file: file, diagnostics: diagnostics) } ?? root

        var everyPatternMatched = true
        for pattern in configuration.ruleFiles {
            let files = expand(pattern, in: directory)
            if files.isEmpty {
                rulesField.error("\"\(pattern)\" matches no file")
                everyPatternMatched = false
                continue
            }
            for ruleFile in files {
                guard let text = read(ruleFile) else {
                    diagnostics.report(SourceLocation(file: ruleFile), "", "cannot read the file: \(lastError(ruleFile))")
                    continue
                }
                guard let node = composeYAML(text, file: ruleFile, diagnostics: diagnostics) else {
                    if text.trimmingWhitespace().isEmpty { diagnostics.report(SourceLocation(file: ruleFile), "", "the file is empty") }
                    continue
                }
                configuration.groups += RuleFileParser(diagnostics: diagnostics).parse(
                    YAMLField(node: node, path: "", file: ruleFile, diagnostics: diagnostics))
            }
        }
        ConfigurationValidator(diagnostics: diagnostics).validate(configuration, everyPatternMatched: everyPatternMatched)
        guard diagnostics.errors.isEmpty else { throw ConfigurationErrors(diagnostics.errors) }
        return configuration
    }

    static func resolve(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") || directory == "." ? path : directory + "/" + path
        return (joined as NSString).standardizingPath
    }

    /// The files matching `pattern` (shell glob), sorted; a pattern without wildcards is itself.
    static func expand(_ pattern: String, in directory: String) -> [String] {
        let full = resolve(pattern, in: directory)
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(full, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func lastError(_ path: String) -> String {
        FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
    }
}
