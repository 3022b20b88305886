import Foundation

/// URLs as they may be shown: in logs, errors and command output.
public enum URLRedaction {
    /// `url` without its credentials (`user:password@`), query and fragment (which may carry tokens):
    /// `https://user:secret@prom:9090/api?x=1` → `https://prom:9090/api`.
    public static func redacted(_ url: String) -> String {
        var text = Substring(url)
        // Credentials first: a password may hold `?` or `#`, so the authority ends at the first `/` only.
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<hostEnd].lastIndex(of: "@") {
                text = text[..<scheme.upperBound] + rest[rest.index(after: at)...]
            }
        }
        if let query = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<query] }
        return String(text)
    }
}
