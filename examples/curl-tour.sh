#!/usr/bin/env bash
# A tour of the CRM's REST API with curl: sign in, create, filter, patch with If-Match, batch upsert,
# read the change feed. Every call states the status it expects; any other status stops the tour
# with the answer printed, and the script exits non-zero.
#
#   CRM_URL=http://localhost:3000 CRM_EMAIL=admin@example.com CRM_PASSWORD=… bash examples/curl-tour.sh
#
# JSON is read with jq when it is installed, else with node (which the CRM needs anyway).
set -euo pipefail

CRM_URL=${CRM_URL:-http://localhost:3000}
: "${CRM_EMAIL:?set CRM_EMAIL and CRM_PASSWORD to an admin or manager}" "${CRM_PASSWORD:?}"
RUN=$(date +%s)-$$ # makes this run's emails and external ids its own, so the tour can run again
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BODY="$WORK/body.json"
HEADERS="$WORK/headers.txt"

# get FILE PATH: the value at a dotted path (data.0.id) of a JSON file, as raw text
get() {
  if command -v jq >/dev/null 2>&1; then
    jq -r --arg p "$2" 'getpath($p | split(".") | map(tonumber? // .)) | if type == "array" then length else . end' "$1"
  else
    node -e 'const [f, p] = process.argv.slice(1); let v = JSON.parse(require("fs").readFileSync(f, "utf8"));
      for (const k of p.split(".")) v = v == null ? null : v[k]; v = v ?? null; console.log(Array.isArray(v) ? v.length : v);' "$1" "$2"
  fi
}

# call STATUS METHOD PATH [curl args…]: the answer goes to $BODY, its headers to $HEADERS
call() {
  local expected=$1 method=$2 path=$3
  shift 3
  local status
  status=$(curl -sS -o "$BODY" -D "$HEADERS" -w '%{http_code}' -X "$method" "$CRM_URL$path" "$@")
  if [ "$status" != "$expected" ]; then
    echo "FAILED: $method $path answered $status, expected $expected" >&2
    cat "$BODY" >&2
    echo >&2
    exit 1
  fi
}

header() { grep -i "^$1:" "$HEADERS" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
expect() { # expect WHAT ACTUAL WANTED
  if [ "$2" != "$3" ]; then echo "FAILED: $1 is '$2', expected '$3'" >&2; exit 1; fi
  echo "  ok: $1 = $3"
}

echo "1. sign in"
call 200 POST /v1/auth/login -H 'content-type: application/json' \
  -d "{\"email\": \"$CRM_EMAIL\", \"password\": \"$CRM_PASSWORD\"}"
TOKEN=$(get "$BODY" accessToken)
AUTH=(-H "authorization: Bearer $TOKEN")
call 200 GET /v1/me "${AUTH[@]}"
echo "  signed in as $(get "$BODY" email) ($(get "$BODY" role))"

echo "2. create a company and a contact in it"
call 201 POST /v1/companies "${AUTH[@]}" -H 'content-type: application/json' \
  -d "{\"name\": \"Tour Trading $RUN\", \"domain\": \"tour-$RUN.example\", \"currency\": \"SAR\", \"annualRevenue\": \"1250000.50\"}"
COMPANY=$(get "$BODY" id)
call 201 POST /v1/contacts "${AUTH[@]}" -H 'content-type: application/json' \
  -d "{\"firstName\": \"Sara\", \"lastName\": \"Tour\", \"email\": \"Sara.$RUN@Example.com\", \"companyId\": \"$COMPANY\", \"tags\": [\"tour\"]}"
CONTACT=$(get "$BODY" id)
expect "the stored email" "$(get "$BODY" email)" "sara.$RUN@example.com"
expect "Location" "$(header location)" "/v1/contacts/$CONTACT"

echo "3. filter, sparse fields and an embedded company"
call 200 GET "/v1/contacts" "${AUTH[@]}" -G --data-urlencode "filter[email][eq]=sara.$RUN@example.com" \
  --data-urlencode 'fields=id,email,companyId' --data-urlencode 'include=company'
expect "matches" "$(get "$BODY" data)" 1
expect "the match" "$(get "$BODY" data.0.id)" "$CONTACT"
expect "its embedded company" "$(get "$BODY" data.0.company.name)" "Tour Trading $RUN"
call 400 GET "/v1/contacts" "${AUTH[@]}" -G --data-urlencode 'filter[shoeSize][eq]=42'
expect "an unknown filter field's code" "$(get "$BODY" code)" validation_failed

echo "4. change it with If-Match; a stale version is refused"
call 200 GET "/v1/contacts/$CONTACT" "${AUTH[@]}"
ETAG=$(header etag)
expect "ETag" "$ETAG" '"1"'
call 200 PATCH "/v1/contacts/$CONTACT" "${AUTH[@]}" -H 'content-type: application/merge-patch+json' \
  -H "if-match: $ETAG" -d '{"jobTitle": "Head of purchasing"}'
expect "version" "$(get "$BODY" version)" 2
call 412 PATCH "/v1/contacts/$CONTACT" "${AUTH[@]}" -H 'content-type: application/merge-patch+json' \
  -H "if-match: $ETAG" -d '{"jobTitle": "A lost update"}'
expect "the conflict's code" "$(get "$BODY" code)" version_conflict
expect "the current record it carries" "$(get "$BODY" current.jobTitle)" "Head of purchasing"

echo "5. batch upsert by the shop's id, retried with the same Idempotency-Key"
BATCH="{\"operation\": \"upsert\", \"idProperty\": \"externalId.shop\", \"records\": [
  {\"externalIds\": {\"shop\": \"$RUN-1\"}, \"firstName\": \"Omar\", \"email\": \"omar.$RUN@example.com\"},
  {\"externalIds\": {\"shop\": \"$RUN-2\"}, \"firstName\": \"Lina\", \"email\": \"lina.$RUN@example.com\"}]}"
call 200 POST /v1/contacts/batch "${AUTH[@]}" -H 'content-type: application/json' -H "idempotency-key: tour-$RUN" -d "$BATCH"
expect "first record" "$(get "$BODY" results.0.status)" created
expect "second record" "$(get "$BODY" results.1.status)" created
call 200 POST /v1/contacts/batch "${AUTH[@]}" -H 'content-type: application/json' -H "idempotency-key: tour-$RUN" -d "$BATCH"
expect "Idempotent-Replayed" "$(header idempotent-replayed)" true
call 200 POST /v1/contacts/batch "${AUTH[@]}" -H 'content-type: application/json' -d "{\"operation\": \"upsert\",
  \"idProperty\": \"externalId.shop\", \"records\": [{\"externalIds\": {\"shop\": \"$RUN-1\"}, \"jobTitle\": \"Buyer\"}]}"
expect "upserting a known shop id" "$(get "$BODY" results.0.status)" updated
call 200 GET /v1/contacts/count "${AUTH[@]}" -G --data-urlencode "filter[email][contains]=.$RUN@example.com"
expect "contacts of this run (Sara, Omar, Lina)" "$(get "$BODY" count)" 3

echo "6. the change feed: every change to Sara, in commit order"
call 200 GET /v1/events "${AUTH[@]}" -G --data-urlencode "entityId=$CONTACT" --data-urlencode 'types=contact.*'
expect "events" "$(get "$BODY" data)" 2
expect "first" "$(get "$BODY" data.0.type)" contact.created
expect "then" "$(get "$BODY" data.1.type)" contact.updated
expect "what changed" "$(get "$BODY" data.1.data.after.jobTitle)" "Head of purchasing"
CURSOR=$(get "$BODY" nextCursor)
call 200 GET /v1/events "${AUTH[@]}" -G --data-urlencode "entityId=$CONTACT" --data-urlencode "after=$CURSOR"
expect "events after the cursor" "$(get "$BODY" data)" 0

echo "curl tour: all steps answered as expected"
