#!/usr/bin/env bash
# Builds the Debian package of Tandem into target/debian/: the binary (the `dist` profile by
# default; `dev` for a quick package to test), its manual pages (`tandem man`), then `cargo deb`
# (install it with `cargo install cargo-deb`). `NO_BUILD=1` packages the binary already built.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-dist}
case "$profile" in
    dev) bin=target/debug/tandem ;;
    *) bin=target/$profile/tandem ;;
esac
[ -n "${NO_BUILD:-}" ] || cargo build --profile "$profile" -p tandem
rm -rf target/man
"$bin" man --dir target/man >/dev/null
gzip -9n target/man/*.1
cargo deb -p tandem --no-build --no-strip --profile "$profile" --output target/debian/
