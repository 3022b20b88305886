/// The `{{ .name }}` placeholders of exec actuator commands, and the rules that keep label values from running as
/// code: values are substituted in one pass (a value that looks like a placeholder stays text), a shell script
/// may not hold placeholders (values go in as positional parameters instead), and a value that starts with `-`
/// is refused unless the actuator allows it (it would read as an option).
public enum ExecTemplate {
    /// The names a template may use.
    public static let names = ["pool", "server", "backend", "rule", "action"]

    /// `text` with each `{{ .name }}` (spaces inside the braces optional) replaced by `values[name]`, in one pass:
    /// what is inserted is never read again. Unknown names are left as written.
    public static func render(_ text: String, values: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            result += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            if let (name, end) = placeholder(at: after), let value = values[name] {
                result += value
                rest = after[end...]
            } else {
                result += "{{"
                rest = after
            }
        }
        return result + rest
    }

    /// The placeholder names `text` uses, in order.
    public static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            let after = rest[open.upperBound...]
            if let (name, end) = placeholder(at: after) {
                names.append(name)
                rest = after[end...]
            } else {
                rest = after
            }
        }
        return names
    }

    /// Where `command` hands a script to a shell (`sh -c SCRIPT`, `bash -ec SCRIPT`, …): the script's index.
    public static func shellScriptIndex(in command: [String]) -> Int? {
        let shells: Set<Substring> = ["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox"]
        guard let program = command.first?.split(separator: "/").last, shells.contains(program) else { return nil }
        for index in command.indices.dropFirst() {
            let argument = command[index]
            guard argument.hasPrefix("-"), !argument.hasPrefix("--") else { return nil }
            if argument.dropFirst().contains("c") { return index + 1 < command.count ? index + 1 : nil }
        }
        return nil
    }

    /// Why `command` is unsafe to template, or `nil`: a placeholder inside a shell script runs whatever the label
    /// value says (`$(…)`, `;`), so it must be passed as an argument after the script.
    public static func problem(in command: [String]) -> String? {
        guard let index = shellScriptIndex(in: command), !placeholders(in: command[index]).isEmpty else { return nil }
        return "a placeholder inside a shell script runs whatever the label value holds (`$(…)`, `;`): pass values as "
            + #"arguments after the script instead, e.g. ["/bin/sh", "-c", "restart \"$1\"", "healer", "{{ .server }}"]"#
    }

    /// The placeholder `{ .name }}`-rest that starts `text` (just after `{{`): the name and where it ends.
    private static func placeholder(at text: Substring) -> (String, Substring.Index)? {
        var index = text.startIndex
        while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
        guard index < text.endIndex, text[index] == "." else { return nil }
        index = text.index(after: index)
        let nameStart = index
        while index < text.endIndex, text[index].isLetter || text[index] == "_" { index = text.index(after: index) }
        let name = String(text[nameStart..<index])
        while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
        guard names.contains(name), text[index...].hasPrefix("}}") else { return nil }
        return (name, text.index(index, offsetBy: 2))
    }
}
