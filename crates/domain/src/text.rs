//! Text helpers shared by search and sorting.

/// The lower-cased form used by directory search. Lower-casing is done here,
/// not in SQL, because SQLite's `lower()` only knows ASCII while
/// PostgreSQL's knows Unicode; doing it once in Rust makes both agree.
pub fn search_key(parts: &[&str]) -> String {
    let mut key = String::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&part.to_lowercase());
    }
    key
}

/// Whether `s` holds control characters (line breaks, NUL, …) or bidi
/// overrides: never wanted in a name, and dangerous in mail headers and
/// chat messages.
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// `s` on one line: every control character becomes a space (for mail
/// headers built from names and subjects stored before they were checked).
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if has_control_chars(c.encode_utf8(&mut [0; 4])) { ' ' } else { c }).collect()
}

/// Escapes `%`, `_` and `\` so user input matches literally in `LIKE … ESCAPE '\'`.
pub fn like_pattern(term: &str) -> String {
    let mut out = String::from("%");
    for c in term.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Lower-case with the common Latin accents removed: `Équipe` → `equipe`.
/// Used where people type names from memory (`#value` tags).
pub fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
            'ý' | 'ÿ' => 'y',
            'ś' | 'š' | 'ș' => 's',
            'ź' | 'ż' | 'ž' => 'z',
            'ł' => 'l',
            'ř' => 'r',
            'ț' | 'ť' => 't',
            'đ' | 'ď' => 'd',
            'ğ' => 'g',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_key_lowercases_every_script() {
        assert_eq!(search_key(&["Valérie Alexandre", "", "VA@Example.com"]), "valérie alexandre va@example.com");
        assert_eq!(search_key(&["ÅSA"]), "åsa");
        assert_eq!(search_key(&["राहुल"]), "राहुल");
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern(" 50%_off\\ "), "%50\\%\\_off\\\\%");
    }
}
