#!/usr/bin/env bash
# What a user would write instead of aircall-dest: a sequential curl loop that POSTs one JSON
# body per line of BODIES to URL, without pacing or retries.
#
#   bench/naive_curl.sh URL BODIES
#
# The Basic credential comes from API_ID / API_TOKEN (default: the sandbox's test pair) and is
# handed to curl through a private header file, never on the command line.
# Prints one JSON object: sent, delivered (2xx), http_429, other, seconds.
set -euo pipefail
url="$1"
bodies="$2"

auth_file="$(mktemp)"
trap 'rm -f "$auth_file"' EXIT
chmod 600 "$auth_file"
printf 'Authorization: Basic %s\n' \
    "$(printf '%s:%s' "${API_ID:-sandbox-id}" "${API_TOKEN:-sandbox-token}" | base64 -w0)" >"$auth_file"

sent=0 delivered=0 limited=0 other=0
start=$(date +%s%N)
while IFS= read -r body; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
        -H @"$auth_file" -H 'Content-Type: application/json' \
        --data-binary "$body" "$url") || code=000
    sent=$((sent + 1))
    case "$code" in
        2??) delivered=$((delivered + 1)) ;;
        429) limited=$((limited + 1)) ;;
        *) other=$((other + 1)) ;;
    esac
done <"$bodies"
end=$(date +%s%N)
ms=$(((end - start) / 1000000))
printf '{"sent":%d,"delivered":%d,"http_429":%d,"other":%d,"seconds":%d.%03d}\n' \
    "$sent" "$delivered" "$limited" "$other" $((ms / 1000)) $((ms % 1000))
