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

/// Messaging-app cues; an id (letters or digits) follows them.
const APP_CUES: &[&str] = &[
    "qq",
    "扣扣",
    "加扣",
    "企鹅",
    "q号",
    "q群",
    "扣号",
    "蔻蔻",
    "微信",
    "威信",
    "薇信",
    "维信",
    "v信",
    "徽信",
    "vx",
    "wx",
    "weixin",
    "wechat",
    "加v",
    "加微",
    "加薇",
    "v号",
    "微号",
    "绿泡泡",
    "v:",
    "tg",
    "telegram",
    "电报",
    "飞机",
    "whatsapp",
    "skype",
    "kakao",
    "snapchat",
    "kik",
];

/// Phone cues are ordinary words too ("call for stronger laws"), so only
/// digits count after them.
const PHONE_CUES: &[&str] = &[
    "电话", "手机", "致电", "tel", "phone", "call", "text", "line", "dm",
];

/// An id after a messaging-app cue, in the junk-free stream. Matched without
/// capture groups (the fast path of the regex engine); the cue is found again
/// by prefix.
static CUE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:{})(?:号码|号|id|是|搜|:)*@?(?:[a-z][a-z0-9_.]{{3,24}}|[0-9]{{5,15}})",
        APP_CUES.join("|")
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

static CUE_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:{})(?:号码|号|id|是|:)*[0-9]{{7,15}}",
        PHONE_CUES.join("|")
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// A Chinese mobile number, however its digits are written; its neighbours
/// are checked to be non-digits by hand.
static MOBILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"1[3-9][0-9]{9}").unwrap_or_else(|e| panic!("static regex: {e}")));

/// A link in the original text: a scheme, t.me, or a domain with a common
/// TLD, also with the dot disguised ("[.]", "(.)", " 点 ", " dot ").
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:https?://\S+|t\.me/\w+|(?-u:\b)[a-z0-9][a-z0-9-]{1,62}",
        r"\s*(?:\.|\[\.\]|\(\.\)|【\.】|点|。|\s+dot\s+)\s*",
        r"(?:com|net|org|cc|xyz|top|vip|me|io|co|tv|live|club|site|online|info|biz|cn|hk|tw|app|link|fun|sex|xxx|porn|adult)(?-u:\b))"
    ))
    .unwrap_or_else(|e| panic!("static regex: {e}"))
});

/// Official reporting centres and hotlines' sites. A text that tells people
/// where to report abuse names them; they are not a seller's contact.
const OFFICIAL_SITES: &[&str] = &[
    "12321.cn",
    "12377.cn",
    "cyberpolice.cn",
    "missingkids.org",
    "cybertip.org",
    "cybertip.ca",
    "iwf.org.uk",
    "inhope.org",
    "esafety.gov.au",
    "ic3.gov",
];

/// Government and police domains: a registry no seller can register in.
const OFFICIAL_SUFFIXES: &[&str] = &[
    ".gov",
    ".gov.cn",
    ".gov.uk",
    ".gov.au",
    ".police.uk",
    ".mil",
];

/// Whether a link found in the text points at an official site.
fn is_official(link: &str) -> bool {
    let rest = link.split_once("://").map_or(link, |(_, r)| r);
    let host = rest
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    OFFICIAL_SITES
        .iter()
        .any(|d| host == *d || host.strip_suffix(d).is_some_and(|h| h.ends_with('.')))
        || OFFICIAL_SUFFIXES.iter().any(|s| host.ends_with(s))
}

fn cue_kind(cue: &str) -> &'static str {
    match cue {
        "qq" | "扣扣" | "企鹅" | "q号" | "q群" | "扣号" | "蔻蔻" => "qq",
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

/// Most contacts reported for one text: an ad needs one, and a text with
/// thousands is a list, whose first few say as much.
pub const MAX_CONTACTS: usize = 64;

/// Finds the contact details in `text` (at most [`MAX_CONTACTS`]).
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
            // The fold table keeps only letters, digits and leet symbols.
            if f.is_ascii_alphanumeric() || f == '_' || (!f.is_ascii() && f.is_alphanumeric()) {
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
    let mut chars: Option<Vec<char>> = None;
    for (re, cues) in [(&*CUE_ID, APP_CUES), (&*CUE_NUMBER, PHONE_CUES)] {
        for m in re.find_iter(&stream).take(MAX_CONTACTS) {
            let cue = cues
                .iter()
                .find(|c| m.as_str().starts_with(**c))
                .copied()
                .unwrap_or("");
            // A Latin cue is a word of its own in the original: "tg" is not
            // the t of "t get", nor "qq" the end of a longer word.
            if cue.is_ascii()
                && let Some((a, b)) = span(m.start(), m.start() + cue.len())
            {
                let chars = chars.get_or_insert_with(|| text.chars().collect());
                let split = b - a != cue.chars().count();
                let inside = a > 0 && chars.get(a - 1).is_some_and(char::is_ascii_alphanumeric);
                if split || inside {
                    continue;
                }
            }
            if let Some((start, end)) = span(m.start(), m.end()) {
                out.push(Contact {
                    kind: cue_kind(cue),
                    start,
                    end,
                });
            }
        }
    }
    let bytes = stream.as_bytes();
    for m in MOBILE.find_iter(&stream).take(MAX_CONTACTS) {
        let digit_before = m.start() > 0 && bytes[m.start() - 1].is_ascii_digit();
        let digit_after = bytes.get(m.end()).is_some_and(u8::is_ascii_digit);
        if !digit_before
            && !digit_after
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
    // Links are found in the original, where dots still exist. Matches
    // come in order, so char offsets are counted on from the last one.
    let mut at = (0usize, 0usize);
    let mut char_at = |byte: usize| {
        at.1 += text.get(at.0..byte).map_or(0, |s| s.chars().count());
        at.0 = byte.max(at.0);
        at.1
    };
    for m in LINK.find_iter(text).take(MAX_CONTACTS) {
        if is_official(m.as_str()) {
            continue;
        }
        let start = char_at(m.start());
        let end = char_at(m.end());
        out.push(Contact {
            kind: "link",
            start,
            end,
        });
    }
    out.sort_by_key(|c| (c.start, c.end));
    out.truncate(MAX_CONTACTS);
    out
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
        assert_eq!(kinds("加薇 lily520")[0].0, "wechat");
        assert_eq!(kinds("绿泡泡：tangtang_99")[0].0, "wechat");
        assert_eq!(kinds("蔻蔻 8866 1234")[0].0, "qq");
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
    fn many_contacts_are_cut_at_the_cap_with_offsets_intact() {
        let text = "看这里 ".to_owned() + &"见 x1.com 和 y2.net ".repeat(500);
        let found = kinds(&text);
        assert_eq!(found.len(), MAX_CONTACTS);
        assert_eq!(found[0], ("link", "x1.com".into()));
        assert_eq!(found[1], ("link", "y2.net".into()));
        assert_eq!(found[MAX_CONTACTS - 1].1, "y2.net");
    }

    #[test]
    fn ordinary_numbers_are_not_contacts() {
        assert!(kinds("价格 12345 元，共 3 件").is_empty());
        assert!(kinds("一二三四五六七八九十").is_empty());
        assert!(kinds("I paid 1380 dollars").is_empty());
        assert!(kinds("victims call for stronger laws online").is_empty());
        assert!(kinds("Why did my post get flagged as NSFW").is_empty());
        assert!(kinds("the bbqq123 grill").is_empty());
        assert!(kinds("可以拨打12321举报，或登录12321.cn在线举报").is_empty());
        assert!(kinds("report it at https://report.cybertip.org/ or tips.fbi.gov").is_empty());
        assert!(kinds("see https://www.police.uk/pu/contact-us").is_empty());
        assert_eq!(kinds("girls at fake12321.cn")[0].0, "link");
        assert_eq!(kinds("https://12321.cn.evil.xyz/x")[0].0, "link");
    }
}
