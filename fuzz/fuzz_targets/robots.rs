//! robots.txt and sitemap parsing on hostile text: no panic, and the
//! verdict for a path is a plain yes or no.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (robots, path) = text.split_once('\u{1}').unwrap_or((&text, "/"));
    let r = cleanweb_sweep::crawl::Robots::parse(robots, "cleanweb");
    let _ = r.allowed(path);
    let _ = cleanweb_sweep::crawl::sitemap_locs(robots);
});
