//! `aircall-dest send-test`: sends one sample request (or a given body) once and prints the
//! answer — status, latency, headers, body — so a destination can be tried before it runs.

use std::time::Duration;

use super::context::{Failure, Outcome, Session};
use super::{SendTestArgs, exit};
use crate::client::HttpClient;
use crate::destination::Method;
use crate::records;
use crate::request::{Built, Plan, Request};

pub fn run(args: &SendTestArgs) -> Outcome {
    if args.sample == 0 {
        return Err(Failure::usage("--sample counts from 1"));
    }
    let (session, credential) = Session::for_sending(&args.dest)?;
    for warning in &session.warnings {
        eprintln!("warning: {warning}");
    }
    let input = session.input(args.input.as_deref());
    let destination = &session.destination;
    let options =
        records::ReadOptions::for_source(&destination.source, args.input.is_some(), args.format);
    let mut request = sample(&session.plan, &input, options, args.sample)?;
    if let Some(path) = &args.body {
        let body = std::fs::read(path)
            .map_err(|e| Failure::error(format!("cannot read {}: {e}", path.display())))?;
        let body = String::from_utf8(body).map_err(|_| {
            Failure::error(format!("{}: the body is not valid UTF-8", path.display()))
        })?;
        request.body = Some(body);
    }
    let authorization = credential.authorization()?;
    credential.refuse_secret_in(&authorization, &session.path, &session.text)?;
    let client = HttpClient::new(&destination.delivery, Some(&authorization))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::error(format!("cannot start the async runtime: {e}")))?;

    if let Some(warning) = real_data_warning(request.method, &credential.base_url) {
        eprintln!("warning: {warning}");
    }
    println!("{} {}", request.method, request.url);
    println!(
        "records: {}",
        request
            .records
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Once, through the attempt loop every request takes: its answer is judged as `run` would.
    let tried = runtime.block_on(crate::client::send_once(
        &client,
        &credential.name,
        &request,
    ));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match tried.result {
        Ok(response) => {
            println!("status: {}", crate::client::status_text(response.status));
            println!("latency: {} ms", response.latency.as_millis());
            println!("headers:");
            for (name, value) in &response.headers {
                let shown = if name.eq_ignore_ascii_case("set-cookie") {
                    crate::secret::MASK
                } else {
                    value
                };
                println!("  {name}: {shown}");
            }
            println!("body:");
            println!("{}", pretty(&response.body));
            match tried.action {
                crate::client::Action::Success => Ok(exit::SUCCESS),
                // A 401/403 is explained in the words `run` uses: the one place is the retry policy.
                crate::client::Action::Fatal { message } => {
                    eprintln!("error: {message}");
                    Ok(exit::ERROR)
                }
                _ => Ok(exit::ERROR),
            }
        }
        Err(err) => Err(Failure::error(format!(
            "{} {}: {}: {}",
            request.method,
            request.url,
            err.kind.describe(),
            err.message
        ))),
    }
}

/// The `k`-th request (from 1) the destination builds from its input, streaming only as far as needed.
fn sample(
    plan: &Plan,
    input: &records::Input,
    options: records::ReadOptions,
    k: usize,
) -> Result<Request, Failure> {
    let reader = records::open_with(input, options)?;
    let mut builder = plan.builder();
    let mut seen = 0usize;
    let mut invalid = Vec::new();
    let mut take = |built: Built, seen: &mut usize| -> Option<Request> {
        match built {
            Built::Request(request) => {
                *seen += 1;
                (*seen == k).then_some(request)
            }
            Built::Invalid(problem) => {
                if invalid.len() < 3 {
                    invalid.push(problem.to_string());
                }
                None
            }
        }
    };
    for record in reader {
        for built in builder.push(record) {
            if let Some(request) = take(built, &mut seen) {
                return Ok(request);
            }
        }
    }
    for built in builder.finish() {
        if let Some(request) = take(built, &mut seen) {
            return Ok(request);
        }
    }
    let mut message = format!("sample {k} does not exist: {input} gives {seen} request(s)");
    if !invalid.is_empty() {
        message.push_str(&format!(
            "; invalid records include: {}",
            invalid.join("; ")
        ));
    }
    Err(Failure::error(message))
}

/// A JSON body indented for reading; anything else as received.
fn pretty(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value)
            .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// What sending the sample does to real data, said before it is sent: where (the local sandbox
/// when the credential's base URL is loopback, else the Aircall account) and what (a GET only
/// reads, so it gets no warning).
fn real_data_warning(method: Method, base_url: &str) -> Option<String> {
    let action = match method {
        Method::Get => return None,
        Method::Post => "creates a real object",
        Method::Put | Method::Patch => "changes a real object",
        Method::Delete => "deletes a real object",
    };
    let local = url::Url::parse(base_url).is_ok_and(|url| crate::rules::is_loopback(&url));
    let place = if local {
        "in the local sandbox"
    } else {
        "in your Aircall account"
    };
    Some(format!(
        "send-test sends one real {method} request: it {action} {place}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_says_what_the_method_does_and_where() {
        assert_eq!(
            real_data_warning(Method::Post, "https://api.aircall.io").as_deref(),
            Some(
                "send-test sends one real POST request: it creates a real object in your Aircall account"
            )
        );
        assert_eq!(
            real_data_warning(Method::Patch, "http://127.0.0.1:8080").as_deref(),
            Some(
                "send-test sends one real PATCH request: it changes a real object in the local sandbox"
            )
        );
        assert_eq!(
            real_data_warning(Method::Put, "http://localhost:9").as_deref(),
            Some(
                "send-test sends one real PUT request: it changes a real object in the local sandbox"
            )
        );
        assert_eq!(
            real_data_warning(Method::Delete, "https://eu.example.com/api").as_deref(),
            Some(
                "send-test sends one real DELETE request: it deletes a real object in your Aircall account"
            )
        );
        assert_eq!(
            real_data_warning(Method::Get, "https://api.aircall.io"),
            None
        );
    }
}
