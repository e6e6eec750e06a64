#!/usr/bin/env bash
# The main job in one command: installs the dependencies, builds the CLI on
# mbedTLS 3.6 (TLS 1.3), and asks a question with it, streaming the answer.
#
#   scripts/demo.sh ["PROMPT"]
#
# Without COMETAPI_KEY (or OPENAI_API_KEY) in the environment it starts the
# local OpenAI-compatible test server over TLS (a test CA made on the spot)
# and talks to that; with a key it talks to the real API (default base URL
# https://api.cometapi.com/v1, or CHATWIRE_BASE_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

prompt="${1:-Explain the significance of snapshot model versions in APIs.}"

# standard output carries the answer alone: all other chatter goes to stderr
bash scripts/install-deps.sh >&2
# mbedTLS 3.6 LTS (TLS 1.2 and 1.3), from Debian's source package
src=$(bash scripts/get-deps-src.sh --only mbedtls 2>&2 | sed -n 's/^MBEDTLS_SRC_DIR=//p')
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCW_MBEDTLS_SOURCE_DIR="$src" >&2
cmake --build build -j "$(nproc)" --target chatwire_cli >&2

if [ -n "${COMETAPI_KEY:-}${OPENAI_API_KEY:-}" ]; then
  exec build/chatwire -v --base-url "${CHATWIRE_BASE_URL:-https://api.cometapi.com/v1}" \
    --system "You are a helpful assistant." "$prompt"
fi

certs=build/demo-certs
bash tests/server/make_certs.sh "$certs" >/dev/null
port_file=$(mktemp)
python3 tests/server/chat_server.py --port 0 --port-file "$port_file" \
  --tls-cert "$certs/good.pem" --tls-key "$certs/good.key" \
  --key demo-key --pace-ms 60 --quiet &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
port=$(cat "$port_file")
echo "demo: local test server on https://localhost:$port/v1 (no key given;" \
     "set COMETAPI_KEY to ask the real API)" >&2
COMETAPI_KEY=demo-key build/chatwire -v --base-url "https://localhost:$port/v1" \
  --ca "$certs/ca.pem" --system "You are a helpful assistant." "$prompt"
