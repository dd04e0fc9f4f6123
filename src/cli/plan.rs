//! `aircall-dest plan`: what a sync run would do, with no writes to Aircall — counts, the first
//! few records of each kind with their requests, the lookups new keys need (made only with
//! `--lookups`), and the requests and time the run would cost.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::context::{self, Failure, Outcome};
use super::{PlanArgs, exit};
use crate::destination::{Destination, MatchOn, SyncResource, SyncSettings};
use crate::records;
use crate::sync::api::{Api, Headers};
use crate::sync::classify::{Classifier, Verdict};
use crate::sync::forecast::{self, Examples, Forecast};
use crate::sync::matcher::{self, Baseline, LIST_LIMIT, Listed, MatchError, PAGE_SIZE};
use crate::sync::phones::PhoneForm;
use crate::sync::send::Sender;
use crate::sync::shape::Shape;
use crate::sync::store::SyncStore;
use crate::sync::{self, diff, pipeline};

/// A sync destination opened for looking only: its settings, requests and state, read-only.
struct Reading {
    settings: SyncSettings,
    resource: SyncResource,
    plan: crate::request::Plan,
    auth_kind: Option<crate::credentials::AuthKind>,
    api: Api,
    store: SyncStore,
    state_path: std::path::PathBuf,
    order: Vec<MatchOn>,
    phones: PhoneForm,
}

impl Reading {
    fn open(
        destination: &Destination,
        path: &std::path::Path,
        state_dir: Option<&std::path::Path>,
    ) -> Result<Reading, Failure> {
        let (settings, resource) = sync::target(destination, path)?;
        let session = context::Session::for_showing(path)?;
        let auth_kind = session.auth_kind();
        let plan = session.plan;
        let api = Api::new(
            resource,
            &destination.request.url,
            plan.base_url(),
            plan.sends_credential(),
            Headers::record_less(destination),
        );
        let state_dir = state_dir
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(crate::runner::default_state_dir);
        let state_path = sync::state_path(&state_dir, path);
        let store = SyncStore::open_read_only(&state_path)?;
        let order = settings.match_order(resource);
        Ok(Reading {
            phones: PhoneForm::of(destination),
            settings,
            resource,
            plan,
            auth_kind,
            api,
            store,
            state_path,
            order,
        })
    }

    fn classifier(&self) -> Classifier<'_> {
        Classifier {
            resource: self.resource,
            settings: &self.settings,
            plan: &self.plan,
            store: &self.store,
            phones: self.phones,
        }
    }
}

pub fn run(args: &PlanArgs) -> Outcome {
    let destination = context::load(&args.dest)?;
    let reading = Reading::open(&destination, &args.dest, args.state_dir.as_deref())?;
    let Reading {
        settings,
        resource,
        auth_kind,
        api,
        store,
        state_path,
        order,
        ..
    } = &reading;
    let (settings, resource, auth_kind, store, order) =
        (settings, *resource, *auth_kind, store, order.as_slice());
    let classifier = reading.classifier();
    let input = context::input(&destination, &args.dest, args.input.as_deref());
    let mut forecast = Forecast::default();
    let mut examples = Examples::new(args.examples, auth_kind);
    let mut new_rows = Vec::new();
    store.begin()?;
    // Records are built on a second thread while this one asks the state about them.
    let records = records::open(&input, destination.source.format)?;
    pipeline::prepare_alongside(records, classifier.preparer(), |prepared| {
        let verdict = forecast::tally(
            &classifier,
            api,
            order,
            prepared,
            &mut forecast,
            Some(&mut examples),
        )?;
        // With --lookups the new keys are matched below; only what matching needs is kept.
        if args.lookups
            && let Verdict::New { row, in_doubt } = verdict
        {
            new_rows.push((row.shape, in_doubt, row.key, row.headers));
        }
        Ok::<(), crate::sync::store::StoreError>(())
    })?;
    let mut gone = Vec::new();
    if forecast::deletes(settings.mode) {
        forecast.delete = store.gone_count()?;
        forecast.writes += forecast.delete;
        // Listing scans the whole state again: not when the count found nothing gone.
        if forecast.delete > 0 {
            gone = store.gone("", args.examples)?;
        }
    }
    forecast.synced = store.synced_count()?;
    store.commit()?;
    for (key, id) in gone {
        examples.push("delete", forecast::delete_example(api, &key, id, auth_kind));
    }
    let baseline = if args.lookups {
        match_for_real(
            &destination,
            settings,
            resource,
            api,
            store,
            order,
            new_rows,
            &mut forecast,
        )?
    } else {
        let keys = if order.is_empty() {
            0
        } else {
            forecast.new_keys
        };
        Baseline::choose(keys, order, None)
    };
    print(
        &destination,
        settings,
        args,
        &forecast,
        baseline,
        &examples,
        state_path,
    );
    Ok(exit::SUCCESS)
}

/// `--lookups`: asks Aircall, as a run would, which new keys already exist.
#[allow(clippy::too_many_arguments)]
fn match_for_real(
    destination: &Destination,
    settings: &SyncSettings,
    resource: SyncResource,
    api: &Api,
    store: &SyncStore,
    order: &[MatchOn],
    new_rows: Vec<(Shape, bool, String, Headers)>,
    forecast: &mut Forecast,
) -> Result<Baseline, Failure> {
    let credential = context::credential(destination)?;
    let authorization = credential.authorization()?;
    let client = crate::client::http::HttpClient::new(&destination.delivery, Some(&authorization))
        .map_err(|e| Failure::error(e.to_string()))?;
    // Plan is not interrupted half-way with anything to keep: Ctrl-C ends the process.
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let sender = Sender::new(client, &destination.delivery, &destination.credential, stop);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let fail = |e: MatchError| match e {
            MatchError::Fatal(m) | MatchError::Failed(m) => Failure::error(m),
            MatchError::Stopped => Failure::error("stopped"),
        };
        let keys = if order.is_empty() {
            0
        } else {
            new_rows.len() as u64
        };
        let mut baseline = Baseline::choose(keys, order, None);
        let mut listed = None;
        let mut lookups = 0;
        if keys >= 2 {
            let (first, total) = matcher::probe(api, &sender).await.map_err(fail)?;
            lookups += 1;
            baseline = Baseline::choose(keys, order, total);
            if let Baseline::Listing { pages } = baseline {
                listed = Some(
                    Listed::fetch(api, &sender, Some(first))
                        .await
                        .map_err(fail)?,
                );
                lookups += pages.saturating_sub(1);
            }
        }
        let mut taken = std::collections::HashSet::new();
        let lookups = std::cell::Cell::new(lookups);
        for (shape, in_doubt, key, headers) in new_rows {
            let tried: Vec<MatchOn> = if in_doubt {
                resource.default_match()
            } else {
                order.to_vec()
            };
            if tried.is_empty() {
                continue;
            }
            let mut claimed = |id: u64| {
                taken.contains(&id)
                    || store
                        .owner_of(id)
                        .ok()
                        .flatten()
                        .is_some_and(|owner| owner != key)
            };
            let query = matcher::Query {
                shape: &shape,
                order: &tried,
                headers: Some(&headers),
                record: crate::records::RecordNo(0),
            };
            let found = match &listed {
                Some(listed) => listed.find(resource, &query, &mut claimed),
                None => matcher::find(api, &sender, query, &lookups, &mut claimed)
                    .await
                    .map_err(fail)?,
            };
            let Some((id, object)) = found else { continue };
            taken.insert(id);
            if settings.mode.creates() {
                forecast.create -= 1;
                forecast.writes -= 1;
            }
            let applied = Shape::from_answer(resource, &object, &shape);
            let ops = diff::changes(resource, &applied, &shape);
            if ops.is_empty() || settings.mode == crate::destination::SyncMode::CreateOnly {
                forecast.unchanged += 1;
            } else {
                forecast.update += 1;
                forecast.writes += ops.len() as u64;
            }
        }
        let lookups = lookups.get();
        forecast.lookups = lookups;
        Ok::<_, Failure>(match baseline {
            Baseline::None if lookups > 0 => Baseline::Lookups,
            other => other,
        })
    })
}

fn print(
    destination: &Destination,
    settings: &SyncSettings,
    args: &PlanArgs,
    forecast: &Forecast,
    baseline: Baseline,
    examples: &Examples,
    state_path: &std::path::Path,
) {
    let requests = if args.lookups {
        forecast.lookups + forecast.writes
    } else {
        forecast.requests(baseline)
    };
    let per_minute = destination.delivery.rate_limit_per_minute;
    let duration = if per_minute == 0 {
        0
    } else {
        (requests * 60).div_ceil(u64::from(per_minute))
    };
    let over = forecast.deletes_over(settings.max_delete_percent);
    let listing_note = format!(
        "a run lists the account instead of looking keys up one by one when it holds at most \
         {LIST_LIMIT} objects and ⌈objects / {PAGE_SIZE}⌉ pages cost fewer requests than the lookups"
    );
    if args.json {
        let examples: Map<String, Value> = examples
            .by_kind
            .iter()
            .map(|(kind, list)| (kind.to_string(), Value::Array(list.clone())))
            .collect();
        let value = json!({
            "mode": settings.mode.as_str(),
            "key": settings.key.0,
            "records_read": forecast.records_read,
            "create": forecast.create,
            "update": forecast.update,
            "delete": forecast.delete,
            "unchanged": forecast.unchanged,
            "invalid": forecast.invalid,
            "duplicate_key": forecast.duplicate_key,
            "new_keys": forecast.new_keys,
            "lookups": forecast.lookups,
            "lookups_made": args.lookups,
            "requests_estimate": requests,
            "duration_estimate_s": duration,
            "synced": forecast.synced,
            "baseline": {
                "strategy": baseline.name(),
                "requests": match baseline {
                    Baseline::Listing { pages } => pages,
                    Baseline::Lookups => forecast.lookups,
                    Baseline::None => 0,
                },
                "note": listing_note,
            },
            "delete_guard": {
                "max_delete_percent": settings.max_delete_percent,
                "refused_without_allow_deletes": over,
            },
            "state": state_path.display().to_string(),
            "examples": examples,
        });
        println!("{value}");
        return;
    }
    println!(
        "{} ({}, key {}): {} record(s) read",
        destination.name, settings.mode, settings.key, forecast.records_read
    );
    println!(
        "  create {}, update {}, delete {}, unchanged {}, invalid {}, duplicate key {}",
        forecast.create,
        forecast.update,
        forecast.delete,
        forecast.unchanged,
        forecast.invalid,
        forecast.duplicate_key
    );
    let lookups = match (baseline, args.lookups) {
        (Baseline::None, _) => "no lookups".to_string(),
        (Baseline::Listing { pages }, _) => {
            format!("a baseline from listing: {pages} page request(s)")
        }
        (Baseline::Lookups, true) => format!("{} lookup request(s) made", forecast.lookups),
        (Baseline::Lookups, false) => format!(
            "per-row lookups: up to {} request(s) for {} new key(s) (`plan --lookups` asks Aircall; {listing_note})",
            forecast.lookups, forecast.new_keys
        ),
    };
    println!("  matching: {lookups}");
    println!(
        "  about {requests} request(s); {} at {per_minute} requests/minute",
        humane(Duration::from_secs(duration))
    );
    if over {
        println!(
            "  refused without --allow-deletes: {} delete(s) of {} synced object(s) is more than max_delete_percent = {}%",
            forecast.delete, forecast.synced, settings.max_delete_percent
        );
    }
    for (kind, list) in &examples.by_kind {
        for example in list {
            let mut line = format!("{kind}:");
            for field in ["record", "line", "key", "object_id", "reason"] {
                if let Some(value) = example.get(field).filter(|v| !v.is_null()) {
                    let text = match value {
                        Value::String(s) => format!("{:?}", s.replace('\u{1f}', " + ")),
                        other => other.to_string(),
                    };
                    line.push_str(&format!(" {field} {text}"));
                }
            }
            println!("{line}");
            for request in example
                .get("requests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or("");
                println!(
                    "    {:<7} {} {}{}",
                    field("operation"),
                    field("method"),
                    field("url"),
                    request
                        .get("body")
                        .and_then(Value::as_str)
                        .map(|b| format!(" {b}"))
                        .unwrap_or_default()
                );
            }
        }
    }
}

fn humane(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs.div_ceil(60)),
        _ => format!("{:.1}h", secs as f64 / 3600.0),
    }
}

/// `preview` of a sync destination: every request a run would send, one JSON object per line,
/// each marked with its `operation` (lookup, create, update, delete), against the current state.
/// Lookups are shown for every phone number and email a new key could be looked up by.
pub fn preview(args: &super::PreviewArgs, destination: &Destination) -> Outcome {
    use std::io::Write;
    let reading = Reading::open(destination, &args.dest, args.state_dir.as_deref())?;
    let Reading {
        settings,
        auth_kind,
        api,
        store,
        order,
        ..
    } = &reading;
    let auth_kind = *auth_kind;
    let classifier = reading.classifier();
    let input = context::input(destination, &args.dest, args.input.as_deref());
    let limit = args.limit.unwrap_or(usize::MAX);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut printed = 0;
    let mut invalid = 0;
    let mut print = |example: &Value, printed: &mut usize| -> bool {
        for request in example
            .get("requests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if *printed >= limit || writeln!(out, "{request}").is_err() {
                return false;
            }
            *printed += 1;
        }
        *printed < limit
    };
    store.begin()?;
    let mut open = true;
    for record in records::open(&input, destination.source.format)? {
        let verdict = classifier.classify(record)?;
        match &verdict {
            Verdict::Invalid { .. } | Verdict::Duplicate(_) => {
                invalid += 1;
                let example = forecast::example(api, order, &verdict, auth_kind);
                eprintln!("{}: {example}", verdict.kind());
                continue;
            }
            _ => {}
        }
        if !print(
            &forecast::example(api, order, &verdict, auth_kind),
            &mut printed,
        ) {
            open = false;
            break;
        }
    }
    if open && forecast::deletes(settings.mode) {
        for (key, id) in store.gone("", limit.saturating_sub(printed))? {
            if !print(
                &forecast::delete_example(api, &key, id, auth_kind),
                &mut printed,
            ) {
                break;
            }
        }
    }
    store.commit()?;
    let _ = out.flush();
    if invalid > 0 {
        eprintln!(
            "{printed} request(s) shown; {invalid} record(s) invalid or duplicate keys, not sent"
        );
        return Ok(exit::PARTIAL);
    }
    Ok(exit::SUCCESS)
}
