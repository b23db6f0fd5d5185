#!/usr/bin/env bash
# Installs the Debian package built by build-deb.sh on this machine (as root) and checks it as a
# sysadmin would: the files where the docs say, the `tandem` user, the server started by systemd
# (or, without systemd, as the unit starts it: its user, its environment file), /healthz
# answering, the first admin token in /var/lib/tandem readable by tandem alone, the manual
# pages; then removes it, keeping the data. Changes the machine: for CI and throwaway hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls -t target/debian/tandem_*.deb | head -1)
fail() { echo "test-deb: $*" >&2; exit 1; }

# A machine's real data is never touched: only what an earlier run of this test left goes.
marker=/var/lib/tandem/.left-by-test-deb
if [ -e /var/lib/tandem ] && [ -n "$(ls -A /var/lib/tandem)" ]; then
    [ -e "$marker" ] || fail "/var/lib/tandem holds data this test did not make: not installing here"
    rm -rf /var/lib/tandem
fi
echo "test-deb: installing $deb"
dpkg -i "$deb"
touch "$marker"
getent passwd tandem >/dev/null || fail "no tandem user"
[ -x /usr/bin/tandem ] || fail "no /usr/bin/tandem"
/usr/bin/tandem --version | grep -q '^tandem .* (commit ' || fail "tandem --version names no commit"
for f in /lib/systemd/system/tandem.service /lib/systemd/system/tandem-agent.service \
    /etc/tandem/tandem.env /etc/tandem/agent.env /etc/tandem/platform.yml \
    /usr/share/doc/tandem/operations.md; do
    [ -e "$f" ] || fail "$f is missing"
done
[ "$(stat -c %U:%G /var/lib/tandem)" = tandem:tandem ] || fail "/var/lib/tandem is not tandem's"
[ "$(stat -c %a /etc/tandem/tandem.env)" = 640 ] || fail "/etc/tandem/tandem.env is readable by others"
# (A Docker image's dpkg may be told to leave manual pages out: the package must hold them.)
listing=$(dpkg-deb -c "$deb")
for page in tandem tandem-serve tandem-agent tandem-rollout-start; do
    grep -q "usr/share/man/man1/$page.1.gz" <<<"$listing" || fail "the package has no $page(1)"
done
if command -v man >/dev/null && [ -e /usr/share/man/man1/tandem-serve.1.gz ]; then
    MANWIDTH=80 man tandem-serve 2>/dev/null | grep -q -- '--platform' || fail "man tandem-serve shows no --platform"
fi

started_here=
if [ -d /run/systemd/system ]; then
    systemctl is-enabled -q tandem.service || fail "tandem.service is not enabled"
else
    echo "test-deb: no systemd here: starting tandem serve as tandem.service would"
    (
        set -a
        . /etc/tandem/tandem.env
        set +a
        exec runuser -u tandem -- /usr/bin/tandem serve </dev/null >/tmp/tandem-deb.log 2>&1
    ) &
    started_here=$!
fi
stop() {
    if [ -n "$started_here" ]; then
        pkill -TERM -u tandem -x tandem || true
        wait "$started_here" 2>/dev/null || true
    else
        systemctl stop tandem.service || true
    fi
}
trap stop EXIT

url=http://127.0.0.1:8420
for _ in $(seq 1 60); do
    curl -fsS "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fsS "$url/healthz" >/dev/null || { cat /tmp/tandem-deb.log >&2 || true; fail "$url/healthz does not answer"; }
token=/var/lib/tandem/first-admin-token
[ -s "$token" ] || fail "no first admin token in $token"
[ "$(stat -c %U:%a "$token")" = tandem:600 ] || fail "$token is $(stat -c %U:%a "$token"), not tandem:600"
curl -fsS -H "Authorization: Bearer $(cat "$token")" "$url/api/v1/markets" | grep -q '"fr"' \
    || fail "the API does not answer with the platform's market"
echo "test-deb: the server answers on $url, its first token is in $token"

stop
trap - EXIT
dpkg -r tandem
[ ! -e /usr/bin/tandem ] || fail "/usr/bin/tandem is still there after removal"
[ -e /var/lib/tandem/tandem.db ] || fail "removal deleted the data"
echo "test-deb: removed; the data in /var/lib/tandem stays"
