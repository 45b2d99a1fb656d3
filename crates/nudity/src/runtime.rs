//! The model's metadata: Ultralytics writes its class names as a Python
//! dict literal.

/// Parses Ultralytics' `names` metadata, a Python dict literal such as
/// `{0: 'FACE', 1: 'FEET'}`, into names by index.
pub fn parse_names(text: &str) -> Vec<String> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let body = text.trim().trim_start_matches('{').trim_end_matches('}');
    for pair in body.split(',') {
        let Some((k, v)) = pair.split_once(':') else {
            continue;
        };
        let Ok(k) = k.trim().parse::<usize>() else {
            continue;
        };
        let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
        out.push((k, v.to_owned()));
    }
    out.sort_by_key(|(k, _)| *k);
    if out.iter().enumerate().any(|(i, (k, _))| i != *k) {
        return Vec::new();
    }
    out.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_metadata_parses() {
        assert_eq!(
            super::parse_names("{0: 'FACE_FEMALE', 1: \"FEET\"}"),
            vec!["FACE_FEMALE", "FEET"]
        );
        assert!(super::parse_names("{1: 'A'}").is_empty());
        assert!(super::parse_names("garbage").is_empty());
    }
}
