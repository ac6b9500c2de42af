//! The memory store stays inside its bounds while 100,000 conversations are written: entries and
//! accounted bytes are checked after every write, and the process RSS growth is reported (the
//! figure quoted in the README). Its own test binary, so no other test skews the RSS reading.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use llm_gateway::{
    api::{CreateResponse, Item, ResponseResource, ResponseStatus},
    config::Config,
    engine::{ConversationStore, StoredResponse},
};
use serde_json::json;

const WRITES: usize = 100_000;
const MAX_ENTRIES: usize = 100_000;
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// A small but realistic record: a two-message input and a one-message answer.
fn record(i: usize) -> StoredResponse {
    let request: CreateResponse = serde_json::from_value(json!({"model":"gpt-4o-mini","input":[
        {"role":"user","content":format!("Conversation {i}: what is the capital of France?")},
        {"role":"user","content":"One word, please."}]}))
    .unwrap();
    let mut response =
        ResponseResource::in_progress(&request, &format!("resp_{i:032}"), "gpt-4o-mini", 1);
    response.status = ResponseStatus::Completed;
    response.output = vec![
        serde_json::from_value::<Item>(json!({"type":"message","id":format!("msg_{i:032}"),"status":"completed",
            "role":"assistant","content":[{"type":"output_text","text":"Paris.","annotations":[]}]}))
        .unwrap(),
    ];
    StoredResponse {
        owner: "anonymous".to_owned(),
        input: request.input_items(),
        response,
    }
}

/// Resident set size of this process in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[actix_web::test]
async fn memory_store_stays_within_its_bounds_for_100k_conversations() {
    let yaml = format!(
        "conversations:\n  ttl: \"1h\"\n  max_entries: {MAX_ENTRIES}\n  max_bytes: {MAX_BYTES}\n"
    );
    let config = Config::from_yaml(&yaml, &|_| None).unwrap();
    let store = ConversationStore::start(&config.conversations).unwrap();
    let before = rss_kib();
    let mut peak_bytes = 0;
    let mut peak_entries = 0;
    let mut halfway = 0;
    for i in 0..WRITES {
        store.put(record(i)).await.unwrap();
        let stats = store.memory_stats().await.unwrap().unwrap();
        assert!(stats.entries <= MAX_ENTRIES, "write {i}: {stats:?}");
        assert!(stats.bytes <= MAX_BYTES, "write {i}: {stats:?}");
        peak_bytes = peak_bytes.max(stats.bytes);
        peak_entries = peak_entries.max(stats.entries);
        if i + 1 == WRITES / 2 {
            halfway = rss_kib();
        }
    }
    let stats = store.memory_stats().await.unwrap().unwrap();
    let after = rss_kib();
    let grown_mib = after.saturating_sub(before) as f64 / 1024.0;
    let second_half_mib = after.saturating_sub(halfway) as f64 / 1024.0;
    eprintln!(
        "{WRITES} writes, bounds {MAX_ENTRIES} entries / {} MiB: peak {peak_entries} entries, \
         {:.1} MiB accounted ({} B/record); {} evicted; RSS grew {grown_mib:.1} MiB \
         ({second_half_mib:.1} MiB of it during the second 50,000 writes)",
        MAX_BYTES / (1024 * 1024),
        peak_bytes as f64 / (1024.0 * 1024.0),
        peak_bytes / peak_entries.max(1),
        stats.evictions,
    );
    assert!(stats.evictions > 0, "the byte bound was exercised");
    assert_eq!(stats.entries + stats.evictions as usize, WRITES);
    assert_eq!(store.store_failures(), 0);
    let newest = store
        .get(&format!("resp_{:032}", WRITES - 1))
        .await
        .unwrap();
    assert!(newest.is_some(), "the newest record survives");
    assert!(
        store
            .get(&format!("resp_{:032}", 0))
            .await
            .unwrap()
            .is_none(),
        "the oldest went first"
    );
    // Generous ceiling: accounted bytes are JSON sizes; the in-memory form costs more per record.
    assert!(
        grown_mib < 4.0 * (MAX_BYTES / (1024 * 1024)) as f64,
        "RSS grew {grown_mib:.1} MiB"
    );
}
