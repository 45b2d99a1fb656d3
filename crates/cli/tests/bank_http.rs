//! Banks over HTTP in a running server: changes match at once, without a
//! reload, and `/v1/match` answers for images and bare hashes.

mod common;

use std::path::Path;

use common::Server;

fn photo() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vision/tests/data/pdq/photo_coffee_512x341.jpg"),
    )
    .unwrap()
}

fn verdict(server: &Server, key: &str, image: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(image);
    let r = server.post_json(
        "/v1/moderate",
        Some(key),
        &serde_json::json!({"image": b64}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["verdict"].as_str().unwrap().to_owned()
}

#[test]
fn bank_changes_match_at_once_and_match_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path(), &[]);
    let key = server.key().to_owned();
    let image = photo();
    assert_eq!(verdict(&server, &key, &image), "allow");

    let r = server.post_json(
        "/v1/banks",
        Some(&key),
        &serde_json::json!({"name": "known", "signal": "pdq", "category": "sexual.minors", "action": "block"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server.post_typed(
        "/v1/banks/known/images?note=case%201",
        Some(&key),
        "application/octet-stream",
        &image,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let hash = r.json()["hash"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["note"], "case 1");

    // No reload: the running index was updated in place.
    assert_eq!(verdict(&server, &key, &image), "block");
    let r = server.post_typed("/v1/match", Some(&key), "application/octet-stream", &image);
    assert_eq!(r.status, 200, "{}", r.body);
    let m = &r.json()["matches"][0];
    assert_eq!(
        (m["bank"].as_str(), m["distance"].as_u64()),
        (Some("known"), Some(0))
    );
    let r = server.post_json("/v1/match", Some(&key), &serde_json::json!({"pdq": hash}));
    assert_eq!(r.json()["matches"][0]["bank"], "known", "{}", r.body);
    let r = server.post_json("/v1/match", Some(&key), &serde_json::json!({"pdq": "zz"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = server.post_typed(
        "/v1/match",
        Some(&key),
        "application/octet-stream",
        b"not an image",
    );
    assert_eq!(r.status, 422, "{}", r.body);

    // Removing the entry stops the match at once, too.
    let r = server.delete(&format!("/v1/banks/known/entries/{hash}"), Some(&key));
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(verdict(&server, &key, &image), "allow");
    let r = server.delete(&format!("/v1/banks/known/entries/{hash}"), Some(&key));
    assert_eq!(r.status, 404);

    // Entries added as hashes match at once; deleting the bank ends it.
    let r = server.post_json(
        "/v1/banks/known/entries",
        Some(&key),
        &serde_json::json!({"entries": [{"hash": hash}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(verdict(&server, &key, &image), "block");
    assert_eq!(server.delete("/v1/banks/known", Some(&key)).status, 204);
    assert_eq!(verdict(&server, &key, &image), "allow");
    assert_eq!(server.delete("/v1/banks/known", Some(&key)).status, 404);

    // The state after a restart is the store's: still no bank.
    server.stop();
    let server = Server::start(tmp.path(), &[]);
    assert_eq!(verdict(&server, &key, &image), "allow");
}
