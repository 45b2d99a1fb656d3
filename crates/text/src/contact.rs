//! Contact details, the other half of a sexual-services ad: QQ, WeChat
//! ("V信", "薇信", "vx"), phone numbers, Telegram and WhatsApp handles, and
//! links with or without a scheme, however their digits are disguised
//! (spaces, full-width, circled, 壹贰叁 or 一二三).

use std::sync::LazyLock;

use regex::Regex;

use crate::fold::fold;

/// A contact detail found in a text, as an original char span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub kind: &'static str,
    pub start: usize,
    pub end: usize,
}

/// An id after a messaging-app cue, in the junk-free stream.
static CUE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(qq|扣扣|加扣|企鹅|q号|微信|威信|薇信|维信|v信|徽信|vx|wx|weixin|wechat|加v|加微|v:|",
        r"tg|telegram|电报|飞机|whatsapp|skype|kakao|snapchat|kik)",
        r"(?:号码|号|id|是|搜|:)*@?([a-z][a-z0-9_.]{3,24}|[0-9]{5,15})"
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// A number after a phone cue. Phone cues are ordinary words too ("call for
/// stronger laws"), so only digits count after them.
static CUE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(电话|手机|致电|tel|phone|call|text|line|dm)(?:号码|号|id|是|:)*([0-9]{7,15})")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// A Chinese mobile number, however its digits are written.
static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9])(1[3-9][0-9]{9})(?:[^0-9]|$)")
        .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// A link in the original text: a scheme, t.me, or a domain with a common
/// TLD, also with the dot disguised ("[.]", "(.)", " 点 ", " dot ").
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:https?://\S+|t\.me/\w+|\b[a-z0-9][a-z0-9-]{1,62}",
        r"\s*(?:\.|\[\.\]|\(\.\)|【\.】|点|。|\s+dot\s+)\s*",
        r"(?:com|net|org|cc|xyz|top|vip|me|io|co|tv|live|club|site|online|info|biz|cn|hk|tw|app|link|fun|sex|xxx|porn|adult)\b)"
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

fn cue_kind(cue: &str) -> &'static str {
    match cue {
        "qq" | "扣扣" | "企鹅" | "q号" => "qq",
        "tg" | "telegram" | "电报" | "飞机" => "telegram",
        "whatsapp" => "whatsapp",
        "电话" | "手机" | "致电" | "tel" | "phone" | "call" | "text" | "line" | "dm" => {
            "phone"
        }
        "skype" => "skype",
        "kakao" | "snapchat" | "kik" => "messenger",
        _ => "wechat",
    }
}

fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '零' | '〇' => '0',
        '一' | '壹' | '幺' => '1',
        '二' | '贰' | '貳' | '两' => '2',
        '三' | '叁' | '參' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' | '陸' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Finds the contact details in `text`.
pub fn extract(text: &str) -> Vec<Contact> {
    // A junk-free, width- and numeral-folded copy, with the original char
    // index of every byte.
    let mut stream = String::with_capacity(text.len());
    let mut origin: Vec<u32> = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let o = u32::try_from(i).unwrap_or(u32::MAX);
        let mut put = |f: char, stream: &mut String| {
            stream.push(f);
            origin.resize(stream.len(), o);
        };
        if matches!(c, '@' | ':' | '：') {
            put(if c == '：' { ':' } else { c }, &mut stream);
            continue;
        }
        if let Some(d) = chinese_digit(c) {
            put(d, &mut stream);
            continue;
        }
        fold(c, &mut |f| {
            if f.is_alphanumeric() || f == '_' {
                put(f, &mut stream);
            }
        });
    }
    let span = |s: usize, e: usize| -> Option<(usize, usize)> {
        let a = *origin.get(s)? as usize;
        let b = *origin.get(e.checked_sub(1)?)? as usize;
        Some((a, b + 1))
    };
    let mut out = Vec::new();
    for caps in CUE_ID
        .captures_iter(&stream)
        .chain(CUE_NUMBER.captures_iter(&stream))
    {
        if let (Some(cue), Some(whole)) = (caps.get(1), caps.get(0))
            && let Some((start, end)) = span(whole.start(), whole.end())
        {
            out.push(Contact {
                kind: cue_kind(cue.as_str()),
                start,
                end,
            });
        }
    }
    for caps in MOBILE.captures_iter(&stream) {
        if let Some(m) = caps.get(1)
            && let Some((start, end)) = span(m.start(), m.end())
            && !out.iter().any(|c| c.start <= start && end <= c.end)
        {
            out.push(Contact {
                kind: "phone",
                start,
                end,
            });
        }
    }
    // Links are found in the original, where dots still exist.
    let char_at = byte_to_char(text);
    for m in LINK.find_iter(text) {
        out.push(Contact {
            kind: "link",
            start: char_at(m.start()),
            end: char_at(m.end()),
        });
    }
    out.sort_by_key(|c| (c.start, c.end));
    out
}

fn byte_to_char(text: &str) -> impl Fn(usize) -> usize + '_ {
    move |byte| text.get(..byte).map_or(0, |s| s.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, String)> {
        let chars: Vec<char> = text.chars().collect();
        extract(text)
            .into_iter()
            .map(|c| (c.kind, chars[c.start..c.end].iter().collect()))
            .collect()
    }

    #[test]
    fn finds_disguised_contacts() {
        assert_eq!(
            kinds("加V信: lily_520"),
            vec![("wechat", "V信: lily_520".into())]
        );
        assert_eq!(
            kinds("扣扣 8 8 6 6 1 2 3"),
            vec![("qq", "扣扣 8 8 6 6 1 2 3".into())]
        );
        assert_eq!(kinds("call 1 3 8-0 0 1 3-8 0 0 0 now")[0].0, "phone");
        assert_eq!(kinds("电话壹叁捌零零壹叁捌零零零")[0].0, "phone");
        assert_eq!(kinds("①③⑧⓪⓪①③⑧⓪⓪⓪")[0].0, "phone");
        assert_eq!(kinds("tg @hotgirls_vip")[0].0, "telegram");
        assert_eq!(
            kinds("see example[.]com"),
            vec![("link", "example[.]com".into())]
        );
        assert_eq!(
            kinds("去 abc123 点 com 看"),
            vec![("link", "abc123 点 com".into())]
        );
        assert_eq!(kinds("https://x.test/a?b=1")[0].0, "link");
    }

    #[test]
    fn ordinary_numbers_are_not_contacts() {
        assert!(kinds("价格 12345 元，共 3 件").is_empty());
        assert!(kinds("一二三四五六七八九十").is_empty());
        assert!(kinds("I paid 1380 dollars").is_empty());
        assert!(kinds("victims call for stronger laws online").is_empty());
    }
}
