#!/usr/bin/env bash
# tests/deb-install.sh DEB — installs the .deb dpkg-buildpackage made (as root: dpkg -i),
# runs the installed binary from its installed paths (no TT_SRCDIR, from /), checks its
# hardening and the installed systemd units, then purges it and checks nothing is left.
# TAP output; .ci/run runs it. Changes the machine: run it only where that is wanted (CI).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
deb=$(realpath "${1:?usage: tests/deb-install.sh tlstriage_VERSION_ARCH.deb}")
[ "$(id -u)" = 0 ] || skip_all "dpkg -i needs root"
unset TT_SRCDIR TLSTRIAGE
cd /

out=$(dpkg -i "$deb" 2>&1)
is "$?" 0 "dpkg -i $(basename "$deb")" || echo "$out" | sed 's/^/# /'
is "$(dpkg-query -W -f='${Status}' tlstriage)" "install ok installed" "dpkg says it is installed"
v=$(/usr/bin/tlstriage --version)
ok "the installed tlstriage --version names itself and OpenSSL, ncurses, libyaml, PCRE2" \
    bash -c 'grep -q "^tlstriage " <<<"$1" && grep -q "^  OpenSSL " <<<"$1" &&
             grep -q "^  ncurses " <<<"$1" && grep -q "^  libyaml " <<<"$1" &&
             grep -q "^  PCRE2 " <<<"$1"' _ "$v"
echo "$v" | sed 's/^/# /'
out=$(/usr/bin/tlstriage scan --format json /usr/share/tlstriage/samples/error.log)
rc=$?
is "$rc" 1 "scan of the installed sample log finds its incidents (exit 1)"
ok "and reports them as JSON incidents" bash -c 'jq -e ".incidents | length > 0" <<<"$1" >/dev/null' _ "$out"
ok "drill --list finds the installed drills (/usr/share/tlstriage/drills)" \
    bash -c '/usr/bin/tlstriage drill --list | grep -q classic'
ok "explain finds the installed runbooks (/usr/share/tlstriage/runbooks)" \
    bash -c '/usr/bin/tlstriage explain 18 | grep -qi self'
ok "the installed settings file (all commented) loads" \
    bash -c '/usr/bin/tlstriage --show-settings | grep -q "^conf .*(default)"'
ok "dpkg treats /etc/tlstriage/config.yaml as a conffile" \
    grep -qx ' */etc/tlstriage/config.yaml [0-9a-f]*' <(dpkg-query -W -f='${Conffiles}\n' tlstriage)
ok "bash completion installed" test -f /usr/share/bash-completion/completions/tlstriage
out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
    /lib/systemd/system/tlstriage-probe.service /lib/systemd/system/tlstriage-probe.timer 2>&1)
is "$?:$out" "0:" "systemd-analyze verify of the installed units"
ok "the service runs the installed binary" \
    grep -q '^ExecStart=/usr/bin/tlstriage probe --all' /lib/systemd/system/tlstriage-probe.service
h=$(bash "$here/hardening.sh" /usr/bin/tlstriage)
is "$?" 0 "the packaged binary is hardened (tests/hardening.sh)" || echo "$h" | sed 's/^/# /'

out=$(dpkg --purge tlstriage 2>&1)
is "$?" 0 "dpkg --purge tlstriage" || echo "$out" | sed 's/^/# /'
ok "nothing left: binary, share, /etc/tlstriage" \
    bash -c '! test -e /usr/bin/tlstriage && ! test -e /usr/share/tlstriage && ! test -e /etc/tlstriage'
done_testing
