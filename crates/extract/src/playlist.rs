//! IPTV playlists (M3U/M3U8): each channel is a member, its name and group
//! as text and its stream URL for the URL checks.

use cleanweb_core::Item;

use crate::{Flow, SEP, Walk, decode_text};

/// One channel of a playlist.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Channel {
    pub name: String,
    pub group: String,
    pub url: String,
}

/// The channels of a playlist, in order. `#EXTINF:<duration> attrs,<name>`
/// names the next URL line; `group-title` or `#EXTGRP` groups it.
pub(crate) fn channels(text: &str) -> Vec<Channel> {
    let mut out = Vec::new();
    let mut next = Channel::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(info) = line.strip_prefix("#EXTINF:") {
            let (attrs, name) = split_info(info);
            next.name = name.trim().to_owned();
            if let Some(g) = attribute(attrs, "group-title") {
                next.group = g;
            }
            if next.name.is_empty()
                && let Some(n) = attribute(attrs, "tvg-name")
            {
                next.name = n;
            }
        } else if let Some(group) = line.strip_prefix("#EXTGRP:") {
            next.group = group.trim().to_owned();
        } else if !line.is_empty() && !line.starts_with('#') {
            next.url = line.to_owned();
            out.push(std::mem::take(&mut next));
        }
    }
    out
}

/// `-1 tvg-id="x" group-title="a,b",Name` → the attributes and the name;
/// the comma that ends the attributes is the first one outside quotes.
fn split_info(info: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in info.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return (&info[..i], &info[i + 1..]),
            _ => {}
        }
    }
    (info, "")
}

fn attribute(attrs: &str, key: &str) -> Option<String> {
    let at = attrs.find(&format!("{key}=\""))? + key.len() + 2;
    let end = attrs[at..].find('"')? + at;
    Some(attrs[at..end].trim().to_owned()).filter(|v| !v.is_empty())
}

impl Walk<'_> {
    pub(crate) fn playlist(&mut self, path: String, bytes: &[u8]) -> Flow {
        let Some(text) = decode_text(bytes) else {
            return self.error(path, "binary data in a playlist");
        };
        for (n, channel) in channels(&text).into_iter().enumerate() {
            let label = if channel.name.is_empty() {
                channel.url.clone()
            } else {
                channel.name.clone()
            };
            let child = format!("{path}{SEP}{} {label}", n + 1);
            let words = [channel.name.as_str(), channel.group.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            let item = Item {
                text: Some(words).filter(|w| !w.is_empty()),
                url: Some(channel.url.clone()),
                meta: Some(serde_json::json!({
                    "channel": channel.name, "group": channel.group, "url": channel.url,
                })),
                ..Item::default()
            };
            self.emit(child, Ok(item))?;
        }
        Flow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_carry_names_groups_and_urls() {
        let m3u = "#EXTM3U\n#EXTINF:-1 tvg-id=\"c1\" group-title=\"News, Daily\",CCTV-1 综合\nhttp://a.example/1.m3u8\n#EXTINF:-1 tvg-name=\"Late\",\n#EXTGRP:成人\nrtmp://b.example/live\n\nhttp://bare.example/x\n";
        let c = channels(m3u);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].name, "CCTV-1 综合");
        assert_eq!(c[0].group, "News, Daily");
        assert_eq!(c[0].url, "http://a.example/1.m3u8");
        assert_eq!((c[1].name.as_str(), c[1].group.as_str()), ("Late", "成人"));
        assert_eq!(c[2].name, "");
        assert_eq!(c[2].url, "http://bare.example/x");
    }
}
