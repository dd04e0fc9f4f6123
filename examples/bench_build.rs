//! Benchmark: build the requests for generated JSON Lines inputs of 10,000 / 100,000 /
//! 1,000,000 contact records (streamed reader → field mapping with E.164 → JSON bodies) and
//! report records per second and the peak resident memory of a child process per size.
//!
//! Run: `cargo run --release --example bench_build`

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use aircall_dest::destination::Destination;
use aircall_dest::records::{self, Format, Input};
use aircall_dest::request::{Built, DEFAULT_BASE_URL, Plan};

const DESTINATION: &str = r#"version = 1
name = "bench"
credential = "none"
[source]
path = "x.jsonl"
[template]
id = "create_records"
resource = "contacts"
[request]
method = "POST"
url = "/v1/contacts"
[[mapping]]
target = "first_name"
from = "first"
transform = "trim"
[[mapping]]
target = "last_name"
from = "last"
[[mapping]]
target = "phone_numbers[0].label"
value = "Work"
[[mapping]]
target = "phone_numbers[0].value"
from = "phone"
transform = "e164"
[[mapping]]
target = "emails[0].label"
value = "Work"
[[mapping]]
target = "emails[0].value"
from = "email"
"#;

fn generate(path: &Path, count: u64) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create input"));
    for i in 0..count {
        writeln!(
            out,
            r#"{{"id":{i},"first":" Name{i} ","last":"Family","phone":"({}) {:03}-{:04}","email":"user{i}@example.com","company":{{"name":"Acme","city":"Paris"}}}}"#,
            200 + i % 700,
            200 + (i / 7) % 700,
            i % 10_000
        )
        .expect("write input");
    }
    out.flush().expect("flush input");
}

/// Builds every request of `path`; returns (records, requests, invalid, seconds).
fn build(path: &Path) -> (u64, u64, u64, f64) {
    let destination = Destination::from_toml(DESTINATION, "bench.toml").expect("bench destination");
    let plan = Plan::new(&destination, DEFAULT_BASE_URL).expect("plan");
    let reader =
        records::open(&Input::Path(path.to_path_buf()), Some(Format::Jsonl)).expect("open input");
    let started = Instant::now();
    let (mut read, mut requests, mut invalid, mut bytes) = (0u64, 0u64, 0u64, 0usize);
    let mut builder = plan.builder();
    for record in reader {
        read += 1;
        for built in builder.push(record) {
            match built {
                Built::Request(r) => {
                    requests += 1;
                    bytes += r.body.map_or(0, |b| b.len());
                }
                Built::Invalid(_) => invalid += 1,
            }
        }
    }
    std::hint::black_box(bytes);
    (read, requests, invalid, started.elapsed().as_secs_f64())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, path] = args.as_slice()
        && flag == "--child"
    {
        let (read, requests, invalid, secs) = build(Path::new(path));
        println!("{read} {requests} {invalid} {secs} {}", peak_rss_kib());
        return;
    }
    let dir = tempfile_dir();
    println!(
        "{:>10} {:>10} {:>8} {:>9} {:>14} {:>12}",
        "records", "requests", "invalid", "seconds", "records/s", "peak RSS"
    );
    for count in [10_000u64, 100_000, 1_000_000] {
        let path = dir.join(format!("contacts-{count}.jsonl"));
        generate(&path, count);
        let out = Command::new(&args[0])
            .arg("--child")
            .arg(&path)
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<f64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [read, requests, invalid, secs, rss] = fields[..] else {
            eprintln!("child failed: {}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        };
        println!(
            "{:>10} {:>10} {:>8} {:>9.2} {:>14.0} {:>9.1} MB",
            read,
            requests,
            invalid,
            secs,
            read / secs,
            rss / 1024.0
        );
        let _ = std::fs::remove_file(&path);
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aircall-dest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
