#!/usr/bin/env python3
"""Builds the phone-number test set and its expected values from libphonenumber itself.

Run at development time only (the tests read the committed fixture and need neither network
nor Python):

    pip install phonenumbers==9.0.43
    python3 tests/data/phones/generate.py > tests/data/phones/expected.jsonl

Each output line: {"input", "country", "possible", "valid"}, where `possible` and `valid` are
the E.164 text the `e164` transform must produce under `phone_check = "possible"` and
`phone_check = "valid"`, or null where it must refuse the value.

The rule applied is the transform's, written with the Python port of Google's libphonenumber:
parse with the default country; accept under "possible" only a number whose length is possible
for its country as a whole number (IS_POSSIBLE, not IS_POSSIBLE_LOCAL_ONLY: a local number
without its area code cannot be dialled from elsewhere); accept under "valid" only numbers
libphonenumber calls valid. When the text starts with `00` and that reading is refused, it is
read again with `00` as the international prefix (`0044 20…` from a US export).

The strings: example numbers of every type for 50 countries, numbers derived from them by
changing trailing digits (some land outside assigned ranges, some change length), each written
the ways exports write them (E.164, international, national, RFC 3966 `tel:`, `(0)` trunk
digits, `00` and `011` prefixes, dots, dashes, en dashes, full-width digits, extensions, vanity
letters), junk, random digit strings, and the phone columns of the sample data files.
"""

import csv
import json
import random
import sys
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult

ROOT = Path(__file__).resolve().parents[3]
REGIONS = [
    "US", "CA", "GB", "FR", "DE", "IE", "AU", "NZ", "IN", "BR", "MX", "ES", "IT", "NL", "BE",
    "CH", "AT", "SE", "NO", "DK", "FI", "PL", "PT", "JP", "CN", "KR", "SG", "HK", "ZA", "NG",
    "KE", "EG", "IL", "AE", "SA", "TR", "RU", "UA", "AR", "CL", "CO", "PE", "PH", "ID", "TH",
    "VN", "MY", "MA", "GR", "CZ",
]
TYPES = [
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP, PhoneNumberType.SHARED_COST,
    PhoneNumberType.UAN,
]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def expect(text, country):
    """The transform's answer under both checks, from libphonenumber."""
    possible = valid = None
    for candidate in candidates(text):
        try:
            number = phonenumbers.parse(candidate, country)
        except NumberParseException:
            continue
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if possible is None and phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE:
            possible = e164
        if valid is None and phonenumbers.is_valid_number(number):
            valid = e164
    return possible, valid


def candidates(text):
    yield text
    stripped = text.strip()
    if stripped.startswith("00"):
        yield "+" + stripped[2:]


def writings(number, region, rng):
    """The ways exports write one number, each with the default country to read it with."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    rfc = phonenumbers.format_number(number, PhoneNumberFormat.RFC3966)
    code = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    other = rng.choice([r for r in ("US", "FR", "GB", "DE") if r != region])
    out = [
        (e164, region), (e164, other), (intl, other), (national, region), (rfc, other),
        ("00" + code + " " + nsn, other), ("00" + code + nsn, "US"),
        ("011 " + code + " " + nsn, "US"),
        (intl.replace(" ", "."), other), (intl.replace(" ", "-"), other),
        (national.replace(" ", "\u2013"), region), (national.translate(FULLWIDTH), region),
        (national + " ext. 12", region), (e164 + "x4639", other), (intl + ";ext=7", other),
        ("+" + code + " (0)" + nsn, other), ("+" + code + " (0) " + nsn[:3] + " " + nsn[3:], other),
        (nsn, region), ("0" + nsn, region), (e164[:-1], region), (e164 + "7", region),
        ("tel:" + e164, other), ("  " + national + "  ", region), ("(" + national + ")", region),
    ]
    return out


def derived(example, rng):
    """Numbers near an example: trailing digits changed, so some leave assigned ranges."""
    nsn = phonenumbers.national_significant_number(example)
    out = []
    for _ in range(2):
        keep = max(1, len(nsn) - rng.randint(2, 4))
        digits = nsn[:keep] + "".join(str(rng.randint(0, 9)) for _ in range(len(nsn) - keep))
        try:
            out.append(phonenumbers.parse("+" + str(example.country_code) + digits, None))
        except NumberParseException:
            pass
    return out


def sample_data_phones():
    """Phone columns of the shared and bundled sample data, read as US exports."""
    found = []
    files = [ROOT / "assets/data/customers-100.csv", ROOT / "assets/data/dialer-numbers.csv",
             ROOT / "tests/data/customers-bad-phones.csv"]
    shared = ROOT.parent.parent / "shared/data/customers-100.csv"
    if shared.exists():
        files.append(shared)
    for path in files:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for column in ("Phone 1", "Phone 2", "phone"):
                    if row.get(column):
                        found.append((row[column], "US"))
    return found


def main():
    rng = random.Random(13)
    cases = []
    for region in REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for number in [example] + derived(example, rng):
                cases.extend(writings(number, region, rng))
    cases.extend(sample_data_phones())
    cases.extend([
        ("+44 (0)20 7946 0958", "US"), ("+33 (0)1 23 45 67 89", "US"),
        ("+49 (0)30 901820", "US"), ("+353 (0)1 234 5678", "US"), ("+61 (0)2 9876 5432", "US"),
        ("011-512-9780", "US"), ("+33 6 12 34 56 78 90", "FR"), ("tel:+1-415-555-0100", "US"),
        ("415.555.0100;ext=12", "US"), ("1-800-FLOWERS", "US"), ("1-800-GOT-JUNK", "US"),
        ("415\u2013555\u20130100", "US"), ("４１５５５５０１００", "US"), ("555-0100", "US"),
        ("call me", "US"), ("N/A", "US"), ("+", "US"), ("0", "FR"), ("+999 123 4567", "US"),
        ("+1234567890123456", "US"), ("12", "US"), ("(023)456-7890", "US"),
        ("0044 20 7946 0958", "FR"), ("0044 20 7946 0958", "US"), ("001-367-429-8545x54065", "US"),
        ("+1 (415) 555-0100 ext 5", "GB"), ("020 7946 0958", "GB"), ("01 23 45 67 89", "FR"),
    ])
    for _ in range(300):
        length = rng.randint(3, 17)
        digits = "".join(str(rng.randint(0, 9)) for _ in range(length))
        prefix = rng.choice(["", "", "+", "0", "00"])
        cases.append((prefix + digits, rng.choice(["US", "GB", "FR", "DE", "IN", "BR"])))
    seen = set()
    for text, country in cases:
        if (text, country) in seen:
            continue
        seen.add((text, country))
        possible, valid = expect(text, country)
        line = {"input": text, "country": country, "possible": possible, "valid": valid}
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
