#!/usr/bin/env bash
# What the server's guarantees cost the erasmus example under load: the example built as it is,
# and built with `benches/ablate-guarantees.patch` applied (the in-flight cap and the body budget
# count nothing, no per-request activity guard, the connection not watched for idle close,
# eviction or drain, the handler run without `catch_unwind` or its deadline's clock read),
# side by side with the typed hyper baseline in one `benches/load.sh` run. A diagnostic: the
# patched build is not a server anyone should run (it is never part of the workspace build).
#
#   bash benches/ablate.sh
#   ROUNDS=6 DURATION=5s bash benches/ablate.sh
#
# The patched copy is built from a `git worktree` of HEAD in a temporary folder, into
# target/ablate (so target/release keeps the real example). Bounded as load.sh is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROFILE=${PROFILE:-release}
WORKTREE=$(mktemp -d)
BINS=$(mktemp -d)
trap 'git -C "$ROOT" worktree remove --force "$WORKTREE" >/dev/null 2>&1 || rm -rf "$WORKTREE"; rm -rf "$BINS"' EXIT INT TERM
git worktree add --detach -q "$WORKTREE" HEAD
git -C "$WORKTREE" apply "$ROOT/benches/ablate-guarantees.patch"
(cd "$WORKTREE" && CARGO_TARGET_DIR="$ROOT/target/ablate" cargo build -q --profile "$PROFILE" \
  -p moveo-dialog-examples --example erasmus)
cargo build -q --profile "$PROFILE" -p moveo-dialog-examples --example erasmus
cargo build -q --profile "$PROFILE" -p moveo-dialog-benches --bin typed-hyper
cp "target/$PROFILE/typed-hyper" "$BINS/typed-hyper"
cp "target/$PROFILE/examples/erasmus" "$BINS/moveo-dialog"
cp "target/ablate/$PROFILE/examples/erasmus" "$BINS/without-guarantees"
bash benches/load.sh typed-hyper="$BINS/typed-hyper" moveo-dialog="$BINS/moveo-dialog" \
  without-guarantees="$BINS/without-guarantees"
