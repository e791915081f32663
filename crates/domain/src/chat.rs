//! The chat command grammar shared by Slack and Microsoft Teams:
//!
//! ```text
//! @ana @li +20 for the launch #teamwork     give 20 to each of ana and li
//! balance                                   what I have left to give and have earned
//! help                                      how to use it
//! link                                      (Teams) link my chat account to my Plaudit member
//! ```
//!
//! Mentions come escaped (`<@U024BE7LH|ana>`, `<@U024BE7LH>`: a chat user id)
//! or plain (`@ana`, `@ana@example.com`: a name to look up). Teams mentions
//! are turned into the escaped form by id before parsing, so display text is
//! never trusted. Recipients come first, then the points, then the message;
//! `#value` tags anywhere in the message name company values.
//!
//! "No `+N`": a recognition without points. Whether that is allowed is the
//! organisation's `allow_zero_point_posts` setting, so the parser reports
//! `points: None` and [`Give::points_or_refuse`] applies the setting: with
//! zero-point posts allowed it means 0 points; otherwise the answer asks for
//! points. An explicit `+0` is the same as no points.

use crate::recognition::value_key;
use crate::{Error, Result};

/// Largest `+N` that parses; the organisation's per-recognition maximum
/// refuses smaller amounts with its own message.
pub const MAX_POINTS_TOKEN: i64 = 1_000_000;

/// Whom a mention names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mention {
    /// A chat user id (Slack `U…`/`W…`, a Teams user id).
    Id(String),
    /// A plain `@name` (or `@e-mail`), to be looked up.
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Give {
    /// In the order written, each once.
    pub recipients: Vec<Mention>,
    /// `None` when no `+N` was written.
    pub points: Option<i64>,
    /// The message as shown on the post (mentions made readable, tags kept).
    pub message: String,
    /// The `#tags`, without `#`, each once (compared by [`value_key`]).
    pub values: Vec<String>,
}

impl Give {
    /// The points to give, applying the organisation's zero-point setting.
    pub fn points_or_refuse(&self, allow_zero_point_posts: bool) -> Result<i64> {
        match self.points {
            Some(p) if p > 0 => Ok(p),
            _ if allow_zero_point_posts => Ok(0),
            _ => Err(refuse(
                "missing_points",
                "points",
                "add how many points to give after the names, like `@ana +10 for the launch`",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Balance,
    Link,
    Give(Give),
}

fn refuse(code: &'static str, field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field, message).with_code(code)
}

/// A leading token and what it is.
enum Token<'a> {
    Mention(Mention),
    Points(&'a str),
    Word,
}

/// Parses the text after `/plaudit` (Slack) or after the bot's mention (Teams).
pub fn parse(text: &str) -> Result<Command> {
    let text = text.trim();
    let lowered = text.to_lowercase();
    match lowered.as_str() {
        "" | "help" | "?" | "-h" | "--help" => return Ok(Command::Help),
        "balance" | "bal" => return Ok(Command::Balance),
        "link" => return Ok(Command::Link),
        _ => {}
    }
    let mut recipients: Vec<Mention> = Vec::new();
    let mut points: Option<i64> = None;
    let mut rest = text;
    // The leading run of mentions and at most one `+N`.
    loop {
        let trimmed = rest.trim_start();
        let (token, after) = split_token(trimmed);
        if token.is_empty() {
            rest = trimmed;
            break;
        }
        match classify(token)? {
            Token::Mention(m) => {
                if points.is_some() {
                    return Err(refuse(
                        "mention_after_points",
                        "recipients",
                        "put everyone you recognise before the points, like `@ana @li +10 for the launch`",
                    ));
                }
                if !recipients.contains(&m) {
                    recipients.push(m);
                }
            }
            Token::Points(digits) => {
                if points.is_some() {
                    return Err(refuse("points_twice", "points", "write the points once, like `+10`"));
                }
                points = Some(parse_points(digits)?);
            }
            Token::Word => {
                rest = trimmed;
                break;
            }
        }
        rest = after;
    }
    if recipients.is_empty() {
        if points.is_some() {
            return Err(refuse(
                "points_without_recipient",
                "recipients",
                "who is it for? Mention them before the points, like `@ana +10 for the launch`",
            ));
        }
        return Err(refuse(
            "unknown_command",
            "text",
            "start with the people you recognise, like `@ana +10 for the launch`, or try `help`",
        ));
    }
    let mut message = rest.trim();
    if let Some(after_for) = strip_word(message, "for") {
        message = after_for;
    }
    let message = readable(message.trim()).trim().to_string();
    if message.trim().is_empty() {
        return Err(refuse(
            "message_empty",
            "message",
            "add a message saying what they did, like `@ana +10 for the launch`",
        ));
    }
    let values = tags(&message);
    Ok(Command::Give(Give { recipients, points, message, values }))
}

/// The first whitespace-separated token and the text after it.
fn split_token(s: &str) -> (&str, &str) {
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `for` as a whole word at the start of `s`, and what follows it.
fn strip_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let (token, after) = split_token(s);
    (token.eq_ignore_ascii_case(word) || token.eq_ignore_ascii_case(&format!("{word}:"))).then_some(after)
}

fn classify(token: &str) -> Result<Token<'_>> {
    // A list may be written `@ana, @li`.
    let token = token.trim_end_matches([',', ';']);
    if let Some(inner) = token.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
        if let Some(user) = inner.strip_prefix('@') {
            let id = user.split('|').next().unwrap_or("").trim();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')) {
                return Err(refuse("unknown_user", "recipients", format!("'{token}' is not a user mention")));
            }
            return Ok(Token::Mention(Mention::Id(id.to_string())));
        }
        if inner.starts_with('!') {
            return Err(refuse(
                "group_mention",
                "recipients",
                "mention people one by one; @here, @channel and user groups cannot receive recognition",
            ));
        }
        return Ok(Token::Word);
    }
    if let Some(name) = token.strip_prefix('@') {
        let name = name.trim_end_matches(['.', ':', '!', '?']);
        if name.is_empty() {
            return Ok(Token::Word);
        }
        if matches!(name.to_lowercase().as_str(), "here" | "channel" | "everyone") {
            return Err(refuse(
                "group_mention",
                "recipients",
                "mention people one by one; @here, @channel and user groups cannot receive recognition",
            ));
        }
        return Ok(Token::Mention(Mention::Name(name.to_string())));
    }
    if let Some(digits) = token.strip_prefix('+') {
        return Ok(Token::Points(digits));
    }
    Ok(Token::Word)
}

fn parse_points(digits: &str) -> Result<i64> {
    let bad = || {
        refuse(
            "invalid_points",
            "points",
            format!("'+{digits}' is not a number of points; write a whole number like `+10`"),
        )
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    if n > MAX_POINTS_TOKEN {
        return Err(bad());
    }
    Ok(n)
}

/// Slack's escapes made readable: `<@U1|ana>` → `@ana`, `<#C1|general>` →
/// `#general`, `<https://x|label>` → `label`, and `&lt; &gt; &amp;`.
pub fn readable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        match (target.chars().next(), label) {
            (Some('@'), Some(l)) => {
                out.push('@');
                out.push_str(l);
            }
            (Some('#'), Some(l)) => {
                out.push('#');
                out.push_str(l);
            }
            (Some('@') | Some('#') | Some('!'), None) => out.push_str(target),
            (_, Some(l)) => out.push_str(l),
            (_, None) => out.push_str(target),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The `#tags` of a message, each once by [`value_key`].
pub fn tags(message: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in message.split_whitespace() {
        let Some(tag) = word.strip_prefix('#') else { continue };
        let tag: String = tag.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_')).collect();
        let tag = tag.trim_end_matches(['-', '_']).to_string();
        if tag.is_empty() || tag.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !out.iter().any(|t| value_key(t) == value_key(&tag)) {
            out.push(tag);
        }
    }
    out
}

/// Whether a `#tag` names a value called `name`: letter case and accents do
/// not count, and `-`/`_` in the tag stand for spaces (`#customer-first`).
pub fn tag_matches(tag: &str, name: &str) -> bool {
    let squash = |s: &str| value_key(s).chars().filter(|c| !matches!(c, ' ' | '-' | '_')).collect::<String>();
    value_key(tag) == value_key(name) || squash(tag) == squash(name)
}

/// What `help` answers.
pub fn help_text(command: &str, currency_plural: &str) -> String {
    format!(
        "*Recognise someone:* `{command} @ana @li +20 for the launch #teamwork`\n\
         • mention one or more people, then `+N` {currency_plural} for each, then what they did\n\
         • `#value` tags pick company values\n\
         *Your balance:* `{command} balance`\n\
         *This help:* `{command} help`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn give(text: &str) -> Give {
        match parse(text).unwrap() {
            Command::Give(g) => g,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn code(text: &str) -> &'static str {
        parse(text).unwrap_err().code
    }

    #[test]
    fn escaped_mentions_with_and_without_labels() {
        let g = give("<@U024BE7LH|ana> <@W0LI> +20 for the launch #teamwork");
        assert_eq!(g.recipients, vec![Mention::Id("U024BE7LH".into()), Mention::Id("W0LI".into())]);
        assert_eq!(g.points, Some(20));
        assert_eq!(g.message, "the launch #teamwork");
        assert_eq!(g.values, vec!["teamwork"]);
    }

    #[test]
    fn plain_mentions_and_several_recipients() {
        let g = give("@ana, @li @ana +5 thanks!");
        assert_eq!(g.recipients, vec![Mention::Name("ana".into()), Mention::Name("li".into())], "each once");
        assert_eq!(g.points, Some(5));
        assert_eq!(g.message, "thanks!");
        let g = give("@ana@example.com +1 for: the review");
        assert_eq!(g.recipients, vec![Mention::Name("ana@example.com".into())]);
        assert_eq!(g.message, "the review");
    }

    #[test]
    fn values_by_tag_fold_case_and_accents() {
        let g = give("@ana +3 for #Équipe and #equipe, #Customer-First and #42");
        assert_eq!(g.values, vec!["Équipe", "Customer-First"]);
        assert!(tag_matches("customer-first", "Customer first"));
        assert!(tag_matches("EQUIPE", "équipe"));
        assert!(!tag_matches("team", "teamwork"));
    }

    #[test]
    fn other_scripts_and_emoji_are_kept() {
        let g = give("<@U1|李> @Ñandú +7 谢谢你的帮助 🎉🙌🏽 #チームワーク");
        assert_eq!(g.recipients, vec![Mention::Id("U1".into()), Mention::Name("Ñandú".into())]);
        assert_eq!(g.message, "谢谢你的帮助 🎉🙌🏽 #チームワーク");
        assert_eq!(g.values, vec!["チームワーク"]);
    }

    #[test]
    fn messages_are_made_readable() {
        let g = give("<@U1|ana> +2 for helping <@U2|li> in <#C1|general>, see <https://x.example|the doc> &amp; more");
        assert_eq!(g.message, "helping @li in #general, see the doc & more");
    }

    #[test]
    fn words_commands_and_help() {
        assert_eq!(parse("").unwrap(), Command::Help);
        assert_eq!(parse("  HELP ").unwrap(), Command::Help);
        assert_eq!(parse("balance").unwrap(), Command::Balance);
        assert_eq!(parse("link").unwrap(), Command::Link);
        assert_eq!(code("thanks everyone"), "unknown_command");
    }

    #[test]
    fn missing_points_follow_the_zero_point_setting() {
        let g = give("@ana thanks for the review");
        assert_eq!(g.points, None);
        assert_eq!(g.points_or_refuse(true).unwrap(), 0);
        assert_eq!(g.points_or_refuse(false).unwrap_err().code, "missing_points");
        let g = give("@ana +0 thanks");
        assert_eq!(g.points_or_refuse(false).unwrap_err().code, "missing_points");
        assert_eq!(give("@ana +9 x").points_or_refuse(false).unwrap(), 9);
    }

    #[test]
    fn errors_say_what_to_fix() {
        assert_eq!(code("+20 for the launch"), "points_without_recipient");
        assert_eq!(code("@ana +20"), "message_empty");
        assert_eq!(code("@ana +20 for"), "message_empty");
        assert_eq!(code("@ana +abc thanks"), "invalid_points");
        assert_eq!(code("@ana +1.5 thanks"), "invalid_points");
        assert_eq!(code("@ana +-3 thanks"), "invalid_points");
        assert_eq!(code("@ana +99999999999999999999999 thanks"), "invalid_points");
        assert_eq!(code("@ana +2 +3 thanks"), "points_twice");
        assert_eq!(code("@ana +2 @li thanks"), "mention_after_points");
        assert_eq!(code("<!here> +2 thanks"), "group_mention");
        assert_eq!(code("@channel +2 thanks"), "group_mention");
        assert_eq!(code("<@> +2 thanks"), "unknown_user");
        let e = parse("+20 for the launch").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("recipients"));
        assert!(e.message.contains("@ana"), "{}", e.message);
    }

    #[test]
    fn points_after_the_message_are_text() {
        let g = give("@ana great work, +1 from me");
        assert_eq!(g.points, None);
        assert_eq!(g.message, "great work, +1 from me");
    }
}
