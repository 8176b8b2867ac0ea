#!/usr/bin/env bash
# What a part of the framework costs the erasmus example under load: the example built as it is,
# and built with every given patch applied, each on its own, side by side with the typed hyper
# baseline in one `benches/load.sh` run. A diagnostic: a patched build is not a server anyone
# should run (no patch is ever part of the workspace build).
#
#   bash benches/ablate.sh                                   # benches/ablate-guarantees.patch
#   bash benches/ablate.sh benches/ablate-handler.patch
#   ROUNDS=6 DURATION=5s bash benches/ablate.sh benches/ablate-guarantees.patch benches/ablate-handler.patch
#
# The patches:
# - `ablate-guarantees.patch` (the server `without-guarantees`): the in-flight cap and the body
#   budget count nothing, no per-request activity guard, the connection not watched for idle
#   close, eviction or drain, the handler run without `catch_unwind` or its deadline's clock
#   read;
# - `ablate-handler.patch` (the server `direct-handler`): the erasmus handler compiled into the
#   router, monomorphic and synchronous, its context decoded into its `Trip` in the view's pass
#   and handed over by value: no type-erased call, no extractor, no `Call`, no boxed context or
#   future, no deadline (a panic still caught). The fastest handler path the router could
#   have, every other step of the pipeline as it is.
#
# Each patched copy is built from a `git worktree` of HEAD in a temporary folder, into
# target/ablate/NAME (so target/release keeps the real example). Bounded as load.sh is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROFILE=${PROFILE:-release}
[ $# -gt 0 ] || set -- benches/ablate-guarantees.patch
BINS=$(mktemp -d)
WORKTREES=()
cleanup() {
  for worktree in "${WORKTREES[@]}"; do
    git -C "$ROOT" worktree remove --force "$worktree" >/dev/null 2>&1 || rm -rf "$worktree"
  done
  rm -rf "$BINS"
}
trap cleanup EXIT INT TERM
cargo build -q --profile "$PROFILE" -p moveo-dialog-examples --example erasmus
cargo build -q --profile "$PROFILE" -p moveo-dialog-benches --bin typed-hyper
cp "target/$PROFILE/typed-hyper" "$BINS/typed-hyper"
cp "target/$PROFILE/examples/erasmus" "$BINS/moveo-dialog"
SERVERS=(typed-hyper="$BINS/typed-hyper" moveo-dialog="$BINS/moveo-dialog")
for patch in "$@"; do
  case $(basename "$patch") in
    ablate-guarantees.patch) name=without-guarantees ;;
    ablate-handler.patch) name=direct-handler ;;
    *) name=$(basename "$patch" .patch) ;;
  esac
  worktree=$(mktemp -d)
  WORKTREES+=("$worktree")
  git worktree add --detach -q "$worktree" HEAD
  git -C "$worktree" apply "$ROOT/$patch"
  (cd "$worktree" && CARGO_TARGET_DIR="$ROOT/target/ablate/$name" cargo build -q --profile "$PROFILE" \
    -p moveo-dialog-examples --example erasmus)
  cp "target/ablate/$name/$PROFILE/examples/erasmus" "$BINS/$name"
  SERVERS+=("$name=$BINS/$name")
done
bash benches/load.sh "${SERVERS[@]}"
