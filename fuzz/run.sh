#!/usr/bin/env bash
# Runs one fuzz target, or all of them, with cargo-fuzz (libFuzzer).
#
#   fuzz/run.sh                       # every target, 10 minutes each
#   fuzz/run.sh request_decode 60     # one target, 60 seconds
#
# libFuzzer needs nightly-only compiler flags; this machine has one stable toolchain, so this
# script (and nothing in the workspace or CI) sets RUSTC_BOOTSTRAP=1. Crashes land in
# fuzz/artifacts/TARGET/; each one found becomes a regression test in tests/it/never_panics.rs.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=(request_decode event_decode verify_signature reply_builders)
if [[ $# -ge 1 ]]; then targets=("$1"); fi
seconds="${2:-600}"
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  # Seed the decoders with the spec's examples.
  case "$target" in
    request_decode) cp ../tests/fixtures/spec/dialog-request.json "corpus/$target/" ;;
    event_decode) cp ../tests/fixtures/spec/event-*.json "corpus/$target/" ;;
  esac
  echo "== $target for ${seconds}s"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
done
