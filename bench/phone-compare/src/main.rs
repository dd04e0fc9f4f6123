//! Agreement of two Rust ports of libphonenumber with the Python port on the fixture.
use std::io::BufRead;
use std::time::Instant;

fn rlib(text: &str, country: &str, valid: bool) -> Option<String> {
    use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, NumberLengthType, enums::Region};
    let region = Region::from_code(country).ok()?;
    let mut tries = vec![text.to_string()];
    if text.trim().starts_with("00") { tries.push(format!("+{}", &text.trim()[2..])); }
    for t in tries {
        let Ok(n) = PhoneNumber::parse(&t, Some(region)) else { continue };
        let ok = if valid { n.is_valid() } else { matches!(n.is_possible_with_reason(), Ok(NumberLengthType::IsPossible)) };
        if ok { return Some(n.format_as(PhoneNumberFormat::E164).into_owned()); }
    }
    None
}

fn pn(text: &str, country: &str) -> Option<String> {
    let id: phonenumber::country::Id = country.parse().ok()?;
    let mut tries = vec![text.to_string()];
    if text.trim().starts_with("00") { tries.push(format!("+{}", &text.trim()[2..])); }
    for t in tries {
        let Ok(n) = phonenumber::parse(Some(id), &t) else { continue };
        if phonenumber::is_valid(&n) { return Some(n.format().mode(phonenumber::Mode::E164).to_string()); }
    }
    None
}

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let rows: Vec<serde_json::Value> = std::io::BufReader::new(std::fs::File::open(path).unwrap()).lines().map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let report = |name: &str, key: &str, f: &dyn Fn(&str, &str) -> Option<String>| {
        let (mut agree, mut wrong, mut refused_good, mut sent_bad) = (0, 0, 0, 0);
        let start = Instant::now();
        let mut shown = 0;
        for r in &rows {
            let input = r["input"].as_str().unwrap(); let c = r["country"].as_str().unwrap();
            let want = r[key].as_str().map(String::from);
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(input, c))).unwrap_or(Some("PANIC".into()));
            match (&got, &want) {
                (a, b) if a == b => agree += 1,
                (Some(_), Some(_)) => { wrong += 1; if shown < 8 { shown += 1; eprintln!("{name} WRONG {input:?} {c} got {got:?} want {want:?}"); } }
                (Some(_), None) => { sent_bad += 1; if shown < 8 { shown += 1; eprintln!("{name} SENT {input:?} {c} got {got:?}"); } }
                (_, _) => { refused_good += 1; if shown < 8 { shown += 1; eprintln!("{name} REFUSED {input:?} {c} want {want:?}"); } }
            }
        }
        println!("{name} [{key}]: {agree}/{} agree ({:.3} %), wrong number {wrong}, sent though refused {sent_bad}, refused though accepted {refused_good}, {:?}", rows.len(), 100.0 * agree as f64 / rows.len() as f64, start.elapsed());
    };
    report("rlibphonenumber 2.2.15", "valid", &|t, c| rlib(t, c, true));
    report("rlibphonenumber 2.2.15", "possible", &|t, c| rlib(t, c, false));
    report("phonenumber 0.3.10", "valid", &|t, c| pn(t, c));
}
