package import Foundation
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
        let text: String
        switch TextFile.read(path, limit: TextFile.configurationLimit) {
        case .success(let read): text = read
        case .failure(let reason):
            throw ConfigurationErrors([
                ConfigurationError(location: SourceLocation(file: path), field: "", message: "cannot read the file: \(reason.text)")
            ])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try load(text: text, file: path, directory: directory.isEmpty ? "." : directory, diagnostics: diagnostics)
    }

    /// Loads a configuration from the bytes of a file (UTF-8, a byte-order mark skipped), as ``load(path:)`` reads them;
    /// for the fuzzer.
    package static func load(data: Data, file: String, directory: String) throws(ConfigurationErrors) -> HealerConfiguration {
        switch TextFile.decode(data) {
        case .success(let text): return try load(text: text, file: file, directory: directory)
        case .failure(let reason):
            throw ConfigurationErrors([
                ConfigurationError(location: SourceLocation(file: file), field: "", message: "cannot read the file: \(reason.text)")
            ])
        }
    }

    /// The groups of a rule file's bytes and the problems in it, as loading a configuration reads a rule file; for the
    /// fuzzer.
    package static func ruleGroups(data: Data, file: String) -> ([RuleGroup], [ConfigurationError]) {
        let diagnostics = Diagnostics()
        switch TextFile.decode(data) {
        case .success(let text):
            guard let node = composeYAML(text, file: file, diagnostics: diagnostics) else { return ([], diagnostics.errors) }
            let groups = RuleFileParser(diagnostics: diagnostics).parse(YAMLField(node: node, path: "", file: file, diagnostics: diagnostics))
            return (groups, diagnostics.errors)
        case .failure(let reason):
            return ([], [ConfigurationError(location: SourceLocation(file: file), field: "", message: reason.text)])
        }
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
            TextFile.read(resolve(path, in: directory), limit: TextFile.secretLimit)
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
                let text: String
                switch TextFile.read(ruleFile, limit: TextFile.ruleFileLimit) {
                case .success(let read): text = read
                case .failure(let reason):
                    diagnostics.report(SourceLocation(file: ruleFile), "", "cannot read the file: \(reason.text)")
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

}
