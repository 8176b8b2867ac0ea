# What the bench scripts share (load.sh, instructions.sh, caches.sh, profile.sh,
# allocations.sh, copies.sh); sourced from the repository's root (default_servers needs
# PROFILE set).

# The call every server gets: the spec's example request, signed with this token.
TOKEN=bench-verify-token
BODY=tests/fixtures/spec/dialog-request.json

# Installs each missing TOOL from its Debian PACKAGE: `install_missing wrk:wrk perf:linux-perf`.
install_missing() {
  local tool
  for tool in "$@"; do
    if ! command -v "${tool%%:*}" >/dev/null; then
      echo "installing ${tool#*:} (Debian package)" >&2
      { apt-get update -qq && apt-get install -y -qq "${tool#*:}"; } >/dev/null 2>&1 \
        || sudo apt-get install -y -qq "${tool#*:}" >/dev/null
    fi
  done
}

# Builds the three servers compared by default and prints them as NAME=BINARY: the typed hyper
# baseline, the erasmus example, axum doing the same work.
default_servers() {
  cargo build -q --profile "$PROFILE" -p moveo-dialog-examples --example erasmus
  cargo build -q --profile "$PROFILE" -p moveo-dialog-benches --bin typed-hyper --bin axum-same-work
  local dir=target/$PROFILE
  echo "typed-hyper=$dir/typed-hyper moveo-dialog=$dir/examples/erasmus axum=$dir/axum-same-work"
}

# Waits until the server on loopback PORT answers a POST to /webhook (any status), for at most
# TRIES tenths of a second (default 100; a server under valgrind starts ~30 times slower).
await_server() {
  local port=$1 tries=${2:-100}
  for _ in $(seq 1 "$tries"); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$port/webhook" && return 0
    sleep 0.1
  done
}
